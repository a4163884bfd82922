// Parses LogQL and TraceQL queries with Grafana's lezer grammars, the ones Grafana's query editors use.
// Input (stdin, JSON): [{"language": "logql" | "traceql", "expr": "..."}]. Output (stdout, JSON), one result per
// query in order: {"expr", "errors": [offsets of error nodes], "labels": [stream-selector label names (LogQL)]}.
import { readFileSync } from "node:fs";
import { parser as logql } from "@grafana/lezer-logql";
import { parser as traceql } from "@grafana/lezer-traceql";

const grammars = { logql, traceql };
const queries = JSON.parse(readFileSync(0, "utf8"));
const results = queries.map(({ language, expr }) => {
  const grammar = grammars[language];
  if (!grammar) return { expr, errors: [0], labels: [], unknown: language };
  const tree = grammar.parse(expr);
  const errors = [], labels = new Set();
  tree.iterate({
    enter: (node) => {
      if (node.type.isError) errors.push(node.from);
      if (language === "logql" && node.name === "Matcher") {
        const name = node.node.getChild("Identifier");
        if (name) labels.add(expr.slice(name.from, name.to));
      }
    },
  });
  return { expr, errors, labels: [...labels].sort() };
});
process.stdout.write(JSON.stringify(results) + "\n");
