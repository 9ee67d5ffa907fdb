// Placeholder until the metrics land.
