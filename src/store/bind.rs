//! Binding values into a parsed query: the product's own queries (`queries/api/*.rq`) get user
//! input only as values, substituted into the algebra or joined as `VALUES` under the WHERE
//! clause, never spliced into text.
//!
//! Invariant: pure rewriting of `spargebra` algebra; no store.

use super::*;

/// Binds variables of a query to values, in two ways that together give the meaning of a
/// `VALUES (?v…) { (…) }` at the start of its WHERE clause, evaluated as fast as a query written
/// with the values in it:
/// - the values replace the variables in the clause's triple and path patterns, `GRAPH ?v` and
///   expressions (`BIND(?v AS ?w)` in a UNION branch too; sub-SELECTs only if they project
///   them), so evaluation reads only matching data;
/// - a one-row VALUES is joined under the clause's filters, grouping and projection, so filters,
///   `BIND`s, `EXISTS` and the results see the variables bound.
///
/// (Oxigraph's own `substitute_variable` only sets the projected output of such a variable; the
/// patterns and filters inside do not see it.)
pub(super) fn bind(query: &mut Query, bindings: &[(&str, Term)]) -> Result<()> {
    if bindings.is_empty() {
        return Ok(());
    }
    let mut variables = Vec::with_capacity(bindings.len());
    let mut row = Vec::with_capacity(bindings.len());
    for (name, value) in bindings {
        variables.push(
            Variable::new(*name)
                .map_err(|e| Error::Invalid(format!("invalid variable name {name}: {e}")))?,
        );
        row.push(Some(match value {
            Term::NamedNode(node) => GroundTerm::NamedNode(node.clone()),
            Term::Literal(literal) => GroundTerm::Literal(literal.clone()),
            other => {
                return Err(Error::Invalid(format!(
                    "{other} cannot be bound to ?{name}: only IRIs and literals can"
                )))
            }
        }));
    }
    let substitutions: Vec<(Variable, Term)> = variables
        .iter()
        .cloned()
        .zip(bindings.iter().map(|(_, value)| value.clone()))
        .collect();
    let values = GraphPattern::Values {
        variables,
        bindings: vec![row],
    };
    let (Query::Select { pattern, .. }
    | Query::Construct { pattern, .. }
    | Query::Describe { pattern, .. }
    | Query::Ask { pattern, .. }) = query;
    let whole = std::mem::replace(
        pattern,
        GraphPattern::Bgp {
            patterns: Vec::new(),
        },
    );
    *pattern = with_values(whole, values);
    substitute(pattern, &substitutions, true);
    Ok(())
}

/// Joins `values` with the pattern of a query's WHERE clause: below the solution modifiers,
/// grouping and projection expressions, and below the clause's own filters (which must see them).
pub(super) fn with_values(pattern: GraphPattern, values: GraphPattern) -> GraphPattern {
    use GraphPattern as P;
    match pattern {
        P::Slice {
            inner,
            start,
            length,
        } => P::Slice {
            inner: Box::new(with_values(*inner, values)),
            start,
            length,
        },
        P::Distinct { inner } => P::Distinct {
            inner: Box::new(with_values(*inner, values)),
        },
        P::Reduced { inner } => P::Reduced {
            inner: Box::new(with_values(*inner, values)),
        },
        P::Project { inner, variables } => P::Project {
            inner: Box::new(with_values(*inner, values)),
            variables,
        },
        P::OrderBy { inner, expression } => P::OrderBy {
            inner: Box::new(with_values(*inner, values)),
            expression,
        },
        P::Group {
            inner,
            variables,
            aggregates,
        } => P::Group {
            inner: Box::new(with_values(*inner, values)),
            variables,
            aggregates,
        },
        P::Extend {
            inner,
            variable,
            expression,
        } => P::Extend {
            inner: Box::new(with_values(*inner, values)),
            variable,
            expression,
        },
        // HAVING is a filter above the grouping: go through it.
        P::Filter { expr, inner } if matches!(*inner, P::Group { .. }) => P::Filter {
            expr,
            inner: Box::new(with_values(*inner, values)),
        },
        P::Filter { expr, inner } => P::Filter {
            expr,
            inner: Box::new(P::Join {
                left: Box::new(values),
                right: inner,
            }),
        },
        other => P::Join {
            left: Box::new(values),
            right: Box::new(other),
        },
    }
}

/// Replaces bound variables by their values in triple and path patterns, graph names and
/// expressions. A
/// sub-SELECT's variables are its own unless it projects them (`outermost`: the query's own
/// projection, whose variables are the bound ones whatever it projects).
pub(super) fn substitute(pattern: &mut GraphPattern, values: &[(Variable, Term)], outermost: bool) {
    use GraphPattern as P;
    match pattern {
        P::Bgp { patterns } => {
            for triple in patterns {
                substitute_term(&mut triple.subject, values);
                substitute_named(&mut triple.predicate, values);
                substitute_term(&mut triple.object, values);
            }
        }
        P::Path {
            subject, object, ..
        } => {
            substitute_term(subject, values);
            substitute_term(object, values);
        }
        P::Graph { name, inner } => {
            substitute_named(name, values);
            substitute(inner, values, outermost);
        }
        P::Join { left, right } | P::Union { left, right } | P::Minus { left, right } => {
            substitute(left, values, outermost);
            substitute(right, values, outermost);
        }
        P::LeftJoin {
            left,
            right,
            expression,
        } => {
            substitute(left, values, outermost);
            substitute(right, values, outermost);
            if let Some(expression) = expression {
                substitute_expression(expression, values);
            }
        }
        P::Filter { inner, expr } => {
            substitute_expression(expr, values);
            substitute(inner, values, outermost);
        }
        P::Extend {
            inner, expression, ..
        } => {
            substitute_expression(expression, values);
            substitute(inner, values, outermost);
        }
        P::OrderBy { inner, .. }
        | P::Distinct { inner }
        | P::Reduced { inner }
        | P::Slice { inner, .. }
        | P::Group { inner, .. } => substitute(inner, values, outermost),
        P::Project { inner, variables } => {
            if outermost {
                substitute(inner, values, false);
            } else {
                let projected: Vec<(Variable, Term)> = values
                    .iter()
                    .filter(|(variable, _)| variables.contains(variable))
                    .cloned()
                    .collect();
                substitute(inner, &projected, false);
            }
        }
        // VALUES, SERVICE and anything else keep their variables: the VALUES join still binds
        // them, only less selectively.
        _ => {}
    }
}

/// Replaces bound variables by their values in an expression (`BOUND(?v)` keeps its variable,
/// which the VALUES join binds).
pub(super) fn substitute_expression(expression: &mut Expression, values: &[(Variable, Term)]) {
    use Expression as E;
    match expression {
        E::Variable(variable) => match values.iter().find(|(v, _)| v == variable).map(|(_, t)| t) {
            Some(Term::NamedNode(node)) => *expression = E::NamedNode(node.clone()),
            Some(Term::Literal(literal)) => *expression = E::Literal(literal.clone()),
            _ => {}
        },
        E::Or(a, b)
        | E::And(a, b)
        | E::Equal(a, b)
        | E::SameTerm(a, b)
        | E::Greater(a, b)
        | E::GreaterOrEqual(a, b)
        | E::Less(a, b)
        | E::LessOrEqual(a, b)
        | E::Add(a, b)
        | E::Subtract(a, b)
        | E::Multiply(a, b)
        | E::Divide(a, b) => {
            substitute_expression(a, values);
            substitute_expression(b, values);
        }
        E::UnaryPlus(a) | E::UnaryMinus(a) | E::Not(a) => substitute_expression(a, values),
        E::In(a, list) => {
            substitute_expression(a, values);
            list.iter_mut()
                .for_each(|e| substitute_expression(e, values));
        }
        E::If(a, b, c) => {
            substitute_expression(a, values);
            substitute_expression(b, values);
            substitute_expression(c, values);
        }
        E::Coalesce(list) | E::FunctionCall(_, list) => {
            list.iter_mut()
                .for_each(|e| substitute_expression(e, values));
        }
        E::Exists(pattern) => substitute(pattern, values, false),
        _ => {}
    }
}

pub(super) fn substitute_term(term: &mut TermPattern, values: &[(Variable, Term)]) {
    if let TermPattern::Variable(variable) = term {
        match values.iter().find(|(v, _)| v == variable).map(|(_, t)| t) {
            Some(Term::NamedNode(node)) => *term = TermPattern::NamedNode(node.clone()),
            Some(Term::Literal(literal)) => *term = TermPattern::Literal(literal.clone()),
            _ => {}
        }
    }
}

pub(super) fn substitute_named(name: &mut NamedNodePattern, values: &[(Variable, Term)]) {
    if let NamedNodePattern::Variable(variable) = name {
        if let Some(Term::NamedNode(node)) =
            values.iter().find(|(v, _)| v == variable).map(|(_, t)| t)
        {
            *name = NamedNodePattern::NamedNode(node.clone());
        }
    }
}
