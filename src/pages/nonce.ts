/** A fresh value per response for its Content-Security-Policy: only the script and style sent with that page may run. */
export function newNonce(): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
}
