/**
 * Bytes of a base64 string (RFC 4648, standard alphabet), through the `atob` that browsers and
 * Node ≥ 16 both provide — not Node's `Buffer`, so a module that embeds a wasm binary as base64
 * runs in a browser bundle too.
 */
export function decodeBase64(base64: string): Uint8Array {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
