// Suites that run pipelines over large tables or kill popsink-pg again and
// again. Their tests block on Postgres and child processes for a minute or
// more, and a blocked test holds one thread of Swift's cooperative pool (two
// on a 2-core machine): two of them at once starved every async test of the
// run (HTTP clients timed out after 60 s). Nested here, they run one at a
// time, and the rest of the suite keeps at least one thread.

import Testing

@Suite(.serialized) enum HeavyTests {}
