// The query editor at /query: YASGUI on this server's SPARQL endpoint, with the library of
// questions (queries/*.rq) as ready tabs. Loaded after yasgui.min.js; the page holds the
// endpoint (data-endpoint), the query a new tab starts with (data-query) and each question's
// SPARQL (data-sparql on its button).
"use strict";

(function () {
  const root = document.getElementById("yasgui");
  const endpoint = new URL(root.dataset.endpoint, window.location.href).href;

  // The prefix, property and class autocompleters ask prefix.cc and LOV over the network: the
  // page allows no request to another site (its Content-Security-Policy), and the editor must
  // work air-gapped. Variables are completed from the query itself.
  Yasgui.Yasqe.defaults.autocompleters = ["variables"];
  // A new tab starts with a query of this graph (data-query), not YASGUI's generic one.
  Yasgui.Yasqe.defaults.value = root.dataset.query;

  const yasgui = new Yasgui(root, {
    requestConfig: { endpoint: endpoint, method: "POST" },
    // The endpoint menu offers this server only (YASGUI's default lists public endpoints).
    endpointCatalogueOptions: {
      getData: function () {
        return [{ endpoint: endpoint }];
      },
      keys: [],
    },
    copyEndpointOnNewTab: true,
    persistenceId: "claimgraph-query",
    // `?query=` (what /sparql sends a browser to) opens a tab with that query and runs it.
    populateFromUrl: true,
  });

  // YASGUI leaves a few of its controls without an accessible name; they get one as they appear
  // (results are drawn anew after each query).
  const labels = [
    [".autocompleteWrapper input.autocomplete", "SPARQL endpoint"],
    [".CodeMirror textarea", "SPARQL query"],
    ["select.tableSizer", "Results per page"],
  ];
  function label() {
    labels.forEach(function (entry) {
      root.querySelectorAll(entry[0]).forEach(function (element) {
        if (!element.hasAttribute("aria-label")) element.setAttribute("aria-label", entry[1]);
      });
    });
  }
  label();
  new MutationObserver(label).observe(root, { childList: true, subtree: true });

  document.getElementById("new-query").addEventListener("click", function () {
    yasgui.addTab(true);
  });

  // Opens a question of the library in a tab of its own (or the tab it already has) and runs it.
  function ask(button) {
    const tab = yasgui.addTab(
      true,
      {
        name: button.dataset.label,
        yasqe: { value: button.dataset.sparql },
        requestConfig: { endpoint: endpoint },
      },
      { avoidDuplicateTabs: true }
    );
    tab.query().catch(function () {
      // YASGUI shows the failure in the tab's results.
    });
  }

  const buttons = document.querySelectorAll("button[data-sparql]");
  buttons.forEach(function (button) {
    button.addEventListener("click", function () {
      ask(button);
    });
  });

  // `?question=NAME` opens that question.
  const name = new URLSearchParams(window.location.search).get("question");
  if (name) {
    buttons.forEach(function (button) {
      if (button.dataset.question === name) ask(button);
    });
  }
})();
