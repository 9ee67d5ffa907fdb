// The sink suites block on servers, receivers and child processes for seconds
// at a time, each holding a thread of Swift's cooperative pool while it does.
// Nested here, they run one at a time, so the rest of the test run keeps the
// other thread (the same reason as CDCTests' HeavyTests).

import Testing

@Suite(.serialized) enum SinkSuites {}
