// Bookings on the lobby display: where a booked visitor goes ("Booked? Show your booking code at
// the desk", while a service of the station takes bookings), which tickets on the board are booked
// parties, and why the sign says WAIT OUTSIDE with chairs still free — room is held for booked
// parties due. The display reads only the public document, which marks a party booked only while
// it queues outside; a ticket seen booked there stays marked once it is asked in.

/** Tickets seen as booked parties in the queue this session (the public document lists no one
 * inside, so a party asked in is only known booked from before). */
const booked = new Set();

/** Notes the booked parties of a new document. */
export function rememberBooked(doc) {
  for (const p of Array.isArray(doc.outside) ? doc.outside : []) if (p.booked) booked.add(p.ticket);
}

export function isBooked(ticket) {
  return booked.has(ticket);
}

/** Whether booked visitors may come here: a service of the station takes bookings. */
export function takesBookings(doc) {
  return (doc.services || []).some((s) => s.bookable);
}

/**
 * Why WAIT OUTSIDE shows while the room is not full, as `[key, params]` lines of the display
 * catalogue: room held for booked parties due (the room left after it), and the party at the head
 * of the queue being larger than the room left (nobody may overtake it). Empty when no explaining
 * is due.
 */
export function waitReasons(doc) {
  if (doc.sign !== "wait_outside") return [];
  const cap = Number(doc.cap) || 0;
  const headcount = Number(doc.headcount) || 0;
  const held = Number(doc.held) || 0;
  if (headcount >= cap) return [];
  const reasons = [];
  if (held > 0) reasons.push(["heldForBookings", { n: Math.min(held, cap - headcount) }]);
  const room = cap - headcount - held;
  const size = Number(doc.outside?.[0]?.party_size);
  if (room > 0 && size > room) reasons.push(["roomForNext", { room, size }]);
  return reasons;
}
