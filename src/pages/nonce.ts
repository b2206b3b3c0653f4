/** A fresh value per response for its Content-Security-Policy: only the script and style sent with that page may run. */
export function newNonce(): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
}

/**
 * The Content-Security-Policy of a page that runs its own script and style (this response's nonce) and
 * calls this origin only; `img` and `media` name what else it may show (the door page's camera).
 */
export function scriptPagePolicy(nonce: string, sources: { img?: string; media?: string } = {}): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    "connect-src 'self'",
    `img-src ${sources.img ?? "'self' data:"}`,
    ...(sources.media ? [`media-src ${sources.media}`] : []),
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}
