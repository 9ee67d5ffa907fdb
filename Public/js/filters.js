// The pipeline filter's rules, as the service applies them
// (Sources/CDC/Filters/Glob.swift and TableFilter.swift), so the form can
// preview which tables a filter selects before the pipeline exists.

/** `*` any run of characters, `?` one, everything else itself; case-sensitive, by code point. */
export function globMatches(pattern, name) {
  const p = Array.from(pattern);
  const t = Array.from(name);
  let i = 0;
  let j = 0;
  let star = -1;
  let resume = 0;
  // Backtracking to the last `*` only, as Glob.swift does: no recursion on hostile patterns.
  while (j < t.length) {
    if (i < p.length && (p[i] === "?" || p[i] === t[j])) { i += 1; j += 1; }
    else if (i < p.length && p[i] === "*") { star = i; resume = j; i += 1; }
    else if (star !== -1) { i = star + 1; resume += 1; j = resume; }
    else return false;
  }
  while (i < p.length && p[i] === "*") i += 1;
  return i === p.length;
}

/**
 * Whether `filters` (`include_schemas`, `exclude_schemas`, `include_tables`,
 * `exclude_tables`) selects the table: it passes the include lists (empty
 * includes everything) and matches no exclude. A table pattern with a dot
 * matches `schema.table`, without one the bare table name.
 */
export function filterSelects(filters, schema, table) {
  const schemaMatches = (patterns) => patterns.some((pattern) => globMatches(pattern, schema));
  const tableMatches = (patterns) => patterns.some((pattern) =>
    globMatches(pattern, pattern.includes(".") ? `${schema}.${table}` : table));
  if (filters.include_schemas.length > 0 && !schemaMatches(filters.include_schemas)) return false;
  if (filters.include_tables.length > 0 && !tableMatches(filters.include_tables)) return false;
  return !schemaMatches(filters.exclude_schemas) && !tableMatches(filters.exclude_tables);
}

/** Patterns typed in one box, separated by commas, spaces or new lines. */
export function patternList(text) {
  return text.split(/[\s,]+/).filter((pattern) => pattern.length > 0);
}
