// The review of drafts at /review: the article goes to POST /drafts; its candidates are shown
// highlighted in the text and queued, each to accept (as a new claim, or as a new appearance of
// a claim already known), change or reject; the decisions go to PUT /sheets/KEY, which writes
// the claim sheet once it checks. Every value from the server or the article is put into the
// page as text (textContent, attribute values), never as markup. The writer's token lives in
// sessionStorage and travels in the Authorization header only.
"use strict";

(function () {
  const $ = (selector, root) => (root || document).querySelector(selector);
  const $$ = (selector, root) => Array.from((root || document).querySelectorAll(selector));

  const tokenInput = $("#token");
  tokenInput.value = sessionStorage.getItem("claimgraph-token") || "";
  tokenInput.addEventListener("change", () =>
    sessionStorage.setItem("claimgraph-token", tokenInput.value.trim())
  );

  function headers(extra) {
    const all = Object.assign({ "Content-Type": "application/json" }, extra || {});
    const token = tokenInput.value.trim();
    if (token) all.Authorization = "Bearer " + token;
    return all;
  }

  function element(tag, attributes, children) {
    const node = document.createElement(tag);
    Object.entries(attributes || {}).forEach(([name, value]) => {
      if (value === true) node.setAttribute(name, "");
      else if (value !== false && value !== undefined && value !== null) node.setAttribute(name, value);
    });
    (children || []).forEach((child) =>
      node.append(typeof child === "string" ? document.createTextNode(child) : child)
    );
    return node;
  }

  const status = $("#status");
  function say(message) {
    status.textContent = message;
  }

  // Entities the fields complete from (GET /entities), as the user types.
  const options = $("#entity-options");
  let lookup = 0;
  document.addEventListener("input", (event) => {
    const field = event.target;
    if (!field.matches || !field.matches("input[list=entity-options]")) return;
    const words = field.value.split(",").pop().trim();
    if (words.length < 2) return;
    const asked = ++lookup;
    fetch("/entities?limit=12&q=" + encodeURIComponent(words))
      .then((response) => (response.ok ? response.json() : []))
      .then((entities) => {
        if (asked !== lookup) return;
        options.replaceChildren(
          ...entities.map((e) => element("option", { value: e.key }, [e.name + " (" + e.kind + ")"]))
        );
      })
      .catch(() => {});
  });

  // An article file is read into the text box (HTML is sent as HTML: the server extracts it).
  let articleIsHtml = false;
  $("#article-file").addEventListener("change", (event) => {
    const file = event.target.files[0];
    if (!file) return;
    articleIsHtml = /\.html?$/i.test(file.name) || file.type === "text/html";
    file.text().then((text) => {
      $("#article-text").value = text;
    });
  });
  $("#article-text").addEventListener("input", () => {
    articleIsHtml = false;
  });

  function clearErrors(root) {
    $$(".error", root).forEach((p) => {
      p.textContent = "";
    });
  }

  // The state of the review.
  let draft = null;
  let points = []; // the text as code points: the offsets count in them
  let current = 0;
  const decisions = {}; // candidate key → "accepted" | "rejected"

  $("#article").addEventListener("submit", (event) => {
    event.preventDefault();
    clearErrors($("#article"));
    const form = new FormData(event.target);
    const body = {
      key: form.get("key").trim(),
      publisher: form.get("publisher").trim(),
      date: form.get("date"),
    };
    ["title", "url", "kind"].forEach((name) => {
      const value = (form.get(name) || "").trim();
      if (value) body[name] = value;
    });
    if (form.get("force")) body.force = true;
    const relation = form.get("relation");
    if (relation) body[relation] = form.get("upstream").trim();
    body[articleIsHtml ? "html" : "text"] = form.get("text");
    say("Drafting the article…");
    fetch("/drafts", { method: "POST", headers: headers(), body: JSON.stringify(body) })
      .then((response) =>
        response.json().then((answer) => {
          if (!response.ok) throw new Error(answer.message || answer.error || response.statusText);
          return answer;
        })
      )
      .then((answer) => {
        draft = answer;
        points = Array.from(answer.text);
        say(answer.candidates.length + " candidates drafted from " + points.length + " characters.");
        show();
      })
      .catch((error) => say("Drafting failed: " + error.message));
  });

  function show() {
    // A new draft starts a new review.
    Object.keys(decisions).forEach((key) => delete decisions[key]);
    $("#save-result").textContent = "";
    const queue = $("#queue");
    queue.replaceChildren(...draft.candidates.map(card));
    $("#review").hidden = false;
    current = 0;
    drawText();
    focus(0, false);
  }

  // The text with each candidate's quote marked, coloured by its proposed status. Quotes that
  // overlap one already marked are listed but not marked.
  function drawText() {
    const text = $("#text");
    const spans = draft.candidates
      .map((c, index) => ({ c: c, index: index }))
      .sort((a, b) => a.c.start - b.c.start);
    const parts = [];
    let at = 0;
    spans.forEach(({ c, index }) => {
      if (c.start < at) return;
      parts.push(points.slice(at, c.start).join(""));
      const classes = ["s-" + statusOf(index).toLowerCase()];
      if (decisions[c.key] === "rejected") classes.push("rejected");
      if (index === current) classes.push("current");
      const mark = element("mark", { class: classes.join(" "), "data-index": index, title: "candidate " + (index + 1) }, [
        points.slice(c.start, c.end).join(""),
      ]);
      mark.addEventListener("click", () => focus(index, true));
      parts.push(mark);
      at = c.end;
    });
    parts.push(points.slice(at).join(""));
    text.replaceChildren(...parts);
  }

  function statusOf(index) {
    const select = $("select[name=status]", cardAt(index));
    return select ? select.value : draft.candidates[index].status;
  }

  function cardAt(index) {
    return $("#queue").children[index];
  }

  function field(label, control, name) {
    const id = control.id;
    return element("div", {}, [
      element("label", { for: id }, [label]),
      control,
      element("p", { class: "error", "data-field": name }),
    ]);
  }

  function card(c, index) {
    const id = (name) => "c" + index + "-" + name;
    const li = element("li", { class: "candidate", tabindex: "-1", "data-key": c.key, "aria-labelledby": id("title") });
    const decision = element("span", { class: "decision" }, ["to review"]);
    li.append(element("h3", { id: id("title") }, [index + 1 + ". “" + clip(c.quote, 120) + "”", decision]));
    const accept = element("button", { type: "button" }, ["Accept"]);
    const reject = element("button", { type: "button" }, ["Reject"]);
    accept.addEventListener("click", () => decide(index, "accepted"));
    reject.addEventListener("click", () => decide(index, "rejected"));
    li.append(element("p", {}, [accept, " ", reject, c.cue ? "  cue: “" + c.cue + "”" : ""]));

    const details = element("div", { class: "details" });
    // A known claim it restates, or a new one.
    const known = element("fieldset", {}, [element("legend", {}, ["Is it a claim already known?"])]);
    const choices = [{ value: "", label: "No: a new claim" }].concat(
      c.matches.map((m) => ({
        value: m.claim,
        label:
          "Yes: " + m.claim + " (" + m.score.toFixed(2) + ")" +
          (m.differences.length
            ? ": differs in " + m.differences.map((d) => d.kind + " “" + d.here + "” / “" + d.known + "”").join("; ")
            : ""),
      }))
    );
    choices.forEach((choice, n) => {
      const radio = element("input", {
        type: "radio",
        name: id("restates"),
        id: id("restates-" + n),
        value: choice.value,
        checked: (c.restates || "") === choice.value,
      });
      radio.addEventListener("change", () => {
        newClaim.hidden = radio.value !== "";
      });
      known.append(element("div", {}, [radio, " ", element("label", { for: id("restates-" + n) }, [choice.label])]));
    });
    known.append(element("p", { class: "error", "data-field": "claim" }));
    details.append(known);

    const newClaim = element("div", { class: "new-claim" });
    newClaim.hidden = Boolean(c.restates);
    const proposition = element("textarea", { id: id("text"), name: "text", rows: "2" });
    proposition.value = c.quote === c.sentence ? c.quote : "";
    newClaim.append(field("Proposition, in plain words", proposition, "text"));
    const key = element("input", { type: "text", id: id("key"), name: "key", value: c.key });
    newClaim.append(field("Key", key, "key"));
    const statusSelect = element("select", { id: id("status"), name: "status" });
    statusSelect.append(...$("#statuses").content.cloneNode(true).children);
    statusSelect.value = c.status;
    statusSelect.addEventListener("change", drawText);
    newClaim.append(field("Status", statusSelect, "status"));
    const claimant = element("input", { type: "text", id: id("claimant"), name: "claimant", list: "entity-options", autocomplete: "off", value: c.claimant });
    newClaim.append(field("Claimant (an entity key)", claimant, "claimant"));
    const about = element("input", { type: "text", id: id("about"), name: "about", list: "entity-options", autocomplete: "off", value: c.about.join(", ") });
    newClaim.append(field("About (entity keys, separated by commas)", about, "about"));
    const content = element("textarea", {
      id: id("content"),
      name: "content",
      rows: "3",
      placeholder: 'one triple a line: netflix cg:paid "100000000"^^xsd:decimal',
    });
    newClaim.append(field("Content (subject predicate object; a literal in quotes)", content, "content"));
    details.append(newClaim);

    const quote = element("input", { type: "text", id: id("quote"), name: "quote", readonly: true, value: c.quote });
    const use = element("button", { type: "button" }, ["Use the selected text"]);
    use.addEventListener("click", () => requote(index));
    const quoteField = field("Quote", quote, "quote");
    quoteField.append(use);
    details.append(quoteField);
    details.append(element("p", { class: "error", "data-field": "" }));
    li.append(details);
    li.dataset.occurrence = c.occurrence || "";
    return li;
  }

  function clip(text, max) {
    const chars = Array.from(text);
    return chars.length > max ? chars.slice(0, max).join("") + "…" : text;
  }

  // Records a decision; from the keys (`keyboard`), the next candidate to review comes forward.
  function decide(index, outcome, keyboard) {
    const c = draft.candidates[index];
    decisions[c.key] = outcome;
    const li = cardAt(index);
    li.classList.remove("accepted", "rejected");
    li.classList.add(outcome);
    $(".decision", li).textContent = outcome;
    drawText();
    const next = draft.candidates.findIndex((other, n) => n > index && !decisions[other.key]);
    focus(next >= 0 ? next : index, keyboard);
  }

  // Makes candidate `index` the current one; `moveFocus` (the keys, a click on its mark) also
  // scrolls it and its mark into view and gives it the focus. A card focused by a click is not
  // scrolled: the page must not move between the press and the release of the mouse button.
  function focus(index, moveFocus) {
    if (!draft || index < 0 || index >= draft.candidates.length) return;
    const previous = cardAt(current);
    if (previous) previous.classList.remove("current");
    current = index;
    const li = cardAt(index);
    li.classList.add("current");
    drawText();
    if (!moveFocus) return;
    const mark = $('#text mark[data-index="' + index + '"]');
    if (mark) mark.scrollIntoView({ block: "nearest" });
    li.scrollIntoView({ block: "nearest" });
    li.focus({ preventScroll: true });
  }

  // The selected words of the text become the candidate's quote; the server anchors it again
  // when the sheet is saved (and says so next to the quote if it cannot).
  function requote(index) {
    const selection = window.getSelection();
    const text = $("#text");
    const li = cardAt(index);
    const error = $('.error[data-field="quote"]', li);
    if (!selection.rangeCount || selection.isCollapsed || !text.contains(selection.anchorNode)) {
      error.textContent = "Select the quote's words in the article first.";
      return;
    }
    const range = selection.getRangeAt(0);
    const before = document.createRange();
    before.setStart(text, 0);
    before.setEnd(range.startContainer, range.startOffset);
    const start = Array.from(before.toString()).length;
    const quote = selection.toString();
    const length = Array.from(quote).length;
    // Which occurrence of these words this is.
    let occurrence = 0;
    for (let at = 0; at <= start; at++) {
      if (points.slice(at, at + length).join("") === quote) occurrence++;
    }
    const c = draft.candidates[index];
    c.quote = quote;
    c.start = start;
    c.end = start + length;
    $("input[name=quote]", li).value = quote;
    li.dataset.occurrence = occurrence > 1 ? String(occurrence) : "";
    error.textContent = "";
    drawText();
  }

  // A card that gets the focus (a click, Tab) becomes the current one, for the keys below.
  $("#queue").addEventListener("focusin", (event) => {
    const li = event.target.closest("#queue > li");
    const index = Array.prototype.indexOf.call($("#queue").children, li);
    if (li && index !== current) focus(index, false);
  });

  // Keys for the queue, when no field has the focus.
  document.addEventListener("keydown", (event) => {
    if (!draft || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest && event.target.closest("input, textarea, select, button")) return;
    const keys = {
      j: () => focus(current + 1, true),
      k: () => focus(current - 1, true),
      a: () => decide(current, "accepted", true),
      r: () => decide(current, "rejected", true),
    };
    const action = keys[event.key];
    if (action) {
      event.preventDefault();
      action();
    }
  });

  // "s p o" a line: o an entity key, or "a literal" with ^^datatype or @lang.
  function triples(text) {
    const out = [];
    const problems = [];
    text.split("\n").forEach((line, n) => {
      line = line.trim();
      if (!line) return;
      const parts = line.match(/^(\S+)\s+(\S+)\s+(.+)$/);
      if (!parts) {
        problems.push("line " + (n + 1) + ": write subject, predicate and object");
        return;
      }
      const triple = { s: parts[1], p: parts[2] };
      const literal = parts[3].match(/^"(.*)"(?:\^\^(\S+)|@(\S+))?$/);
      if (literal) {
        triple.value = literal[1];
        if (literal[2]) triple.datatype = literal[2];
        if (literal[3]) triple.lang = literal[3];
      } else if (/\s/.test(parts[3])) {
        problems.push("line " + (n + 1) + ": a literal object goes in double quotes");
        return;
      } else {
        triple.o = parts[3];
      }
      out.push(triple);
    });
    return { triples: out, problems: problems };
  }

  function keys(text) {
    return text.split(",").map((k) => k.trim()).filter(Boolean);
  }

  // The review as PUT /sheets/KEY takes it; null if a field is wrong (said next to it).
  function reviewed() {
    const source = draft.source;
    const review = {
      source: {
        key: source.key,
        kind: source.kind,
        headline: source.headline,
        publisher: source.publisher,
        published: source.published,
        url: source.url,
        upstream: source.upstream ? { relation: source.upstream[0], key: source.upstream[1] } : null,
      },
      text: draft.text,
      entities: [],
      claims: [],
      appearances: [],
    };
    let ok = true;
    const used = new Set([source.publisher]);
    draft.candidates.forEach((c, index) => {
      if (decisions[c.key] !== "accepted") return;
      const li = cardAt(index);
      const restates = ($("input[type=radio]:checked", li) || {}).value || "";
      const occurrence = li.dataset.occurrence ? Number(li.dataset.occurrence) : null;
      if (restates) {
        const match = c.matches.find((m) => m.claim === restates) || { differences: [] };
        const status = match.differences.find((d) => d.kind === "status");
        review.appearances.push({
          candidate: c.key,
          claim: restates,
          quote: c.quote,
          occurrence: occurrence,
          status: status ? status.here : null,
          differences: match.differences,
        });
        return;
      }
      const parsed = triples($("textarea[name=content]", li).value);
      if (parsed.problems.length) {
        $('.error[data-field="content"]', li).textContent = parsed.problems.join("; ");
        ok = false;
      }
      const claim = {
        candidate: c.key,
        key: $("input[name=key]", li).value.trim(),
        text: $("textarea[name=text]", li).value.trim(),
        claimant: $("input[name=claimant]", li).value.trim(),
        status: $("select[name=status]", li).value,
        about: keys($("input[name=about]", li).value),
        content: parsed.triples,
        times: c.times.map((t) => ({ wording: t.wording, resolved: t.resolved, datatype: t.datatype })),
        quote: c.quote,
        occurrence: occurrence,
      };
      [claim.claimant].concat(claim.about).forEach((k) => used.add(k));
      claim.content.forEach((t) => {
        used.add(t.s);
        if (t.o) used.add(t.o);
      });
      review.claims.push(claim);
    });
    review.entities = draft.new_entities
      .filter((e) => used.has(e.key))
      .map((e) => ({ key: e.key, kind: e.kind, name: e.name, amount: e.amount, currency: e.currency }));
    return ok ? review : null;
  }

  function save(ifMatch) {
    const result = $("#save-result");
    clearErrors($("#review"));
    clearErrors($("#article"));
    const review = reviewed();
    if (!review) {
      result.textContent = "Some fields need fixing first (see the candidates).";
      return;
    }
    if (!review.claims.length && !review.appearances.length) {
      result.textContent = "Accept at least one candidate first.";
      return;
    }
    result.textContent = "Saving and checking the sheet…";
    const extra = ifMatch ? { "If-Match": ifMatch } : {};
    fetch("/sheets/" + encodeURIComponent(review.source.key), {
      method: "PUT",
      headers: headers(extra),
      body: JSON.stringify(review),
    })
      .then((response) => response.json().then((answer) => ({ response: response, answer: answer })))
      .then(({ response, answer }) => {
        if (response.status === 201) {
          const link = element("a", { href: response.headers.get("Location") }, ["see them among the claims"]);
          result.replaceChildren(
            "Saved " + answer.sheet + " (" + answer.claims.length + " claims) and loaded it: ",
            link,
            "."
          );
          return;
        }
        if (response.status === 412) {
          const again = element("button", { type: "button" }, ["Replace it"]);
          again.addEventListener("click", () => save(answer.etag));
          result.replaceChildren(answer.message + " ", again);
          return;
        }
        result.textContent = answer.message || answer.error || response.statusText;
        (answer.errors || []).forEach(showError);
      })
      .catch((error) => {
        result.textContent = "Saving failed: " + error.message;
      });
  }

  // A check error, next to the field it concerns.
  function showError(error) {
    const name = error.field || "";
    const li = error.candidate && $$("#queue > li").find((card) => card.dataset.key === error.candidate);
    // A candidate's field, else the candidate's own line; the article's fields; else the result.
    const spot =
      (li && ($('.error[data-field="' + CSS.escape(name) + '"]', li) || $('.error[data-field=""]', li))) ||
      (!li && name && $('#article .error[data-field="' + CSS.escape(name) + '"]')) ||
      $("#save-result");
    const text = spot.id === "save-result" && name ? name + ": " + error.message : error.message;
    const line = element("span", {}, [text]);
    if (spot.id === "save-result") spot.append(element("br"), line);
    else spot.append(line, element("br"));
  }

  $("#save").addEventListener("click", () => save(null));
})();
