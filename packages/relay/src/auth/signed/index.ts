export { decodeCompactJws, importPublicJwk, verifySignature, type DecodedJws } from './jws.js';
export { SignedTicket, SignedTicketState, SignedTicketVerifier } from './verifier.js';
