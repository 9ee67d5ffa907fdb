// A view's periodic refresh that can be held while a request would race with
// it: deleting a pipeline while a refresh asks for it ends in a 404 the page
// caused itself (and the browser logs it as an error).

/** Wraps `view.refresh` so that `await view.hold()` stops it and waits for the one in flight. */
export function holdable(view) {
  const refresh = view.refresh.bind(view);
  let inFlight = Promise.resolve();
  view.held = false;
  view.refresh = () => {
    if (view.held) return Promise.resolve();
    inFlight = refresh();
    return inFlight;
  };
  view.hold = async () => {
    view.held = true;
    await inFlight.catch(() => {});
  };
  view.release = () => { view.held = false; };
  return view;
}
