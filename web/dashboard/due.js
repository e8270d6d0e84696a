// What a station's cleaning alerts say is due. The service raises one cleaning alert per station
// listing its surfaces (`params.surfaces: [{surface, visitors, since}]`); an older one raised an
// alert per surface (`surface`). Both are read, so the page works with either. Pure: no page, no
// socket, so web/tests/dashboard.test.js tests it directly.

/** The surfaces due at a station, in the order the alerts name them, each with what the service
 * says about it (`visitors` and `since` when it says). */
export function dueSurfaces(doc) {
  const due = new Map();
  for (const a of doc?.alerts || []) {
    if (a.kind !== "cleaning_due" || a.state === "cleared") continue;
    for (const s of surfacesOf(a)) if (!due.has(s.surface)) due.set(s.surface, s);
  }
  return due;
}

/** One cleaning alert's surfaces, grouped or alone. */
export function surfacesOf(alert) {
  if (alert.params?.surfaces?.length) return alert.params.surfaces;
  return alert.surface ? [{ surface: alert.surface }] : [];
}
