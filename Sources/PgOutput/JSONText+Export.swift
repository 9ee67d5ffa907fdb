// The value converter writes into `JSONWriter` and reads `TextBytes`, which
// live in JSONText (the package's one JSON writer, shared with the API);
// re-exported so that users of the decoder (CDC's event encoder) see them as
// part of it, as before they moved.

@_exported import JSONText
