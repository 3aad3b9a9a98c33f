// Sign-in: a development token locally; in AWS the Cognito hosted UI's authorization code flow
// with PKCE. The access token lives in sessionStorage (gone with the tab), never in a cookie.

const TOKEN_KEY = "exportintel.accessToken";
const EXPIRES_KEY = "exportintel.expiresAt";
const VERIFIER_KEY = "exportintel.pkceVerifier";
const STATE_KEY = "exportintel.pkceState";

function base64url(bytes) {
  let text = "";
  for (const byte of new Uint8Array(bytes)) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomText(size) {
  return base64url(crypto.getRandomValues(new Uint8Array(size)));
}

async function challenge(verifier) {
  return base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
}

function storedToken() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const expires = Number(sessionStorage.getItem(EXPIRES_KEY) || 0);
  return token && Date.now() < expires - 30_000 ? token : null;
}

async function startSignIn(auth) {
  const verifier = randomText(48);
  const state = randomText(16);
  sessionStorage.setItem(VERIFIER_KEY, verifier);
  sessionStorage.setItem(STATE_KEY, state);
  const query = new URLSearchParams({
    response_type: "code",
    client_id: auth.clientId,
    redirect_uri: auth.redirectUri,
    scope: (auth.scopes || []).join(" "),
    code_challenge_method: "S256",
    code_challenge: await challenge(verifier),
    state,
  });
  window.location.assign(`${auth.domain}/oauth2/authorize?${query}`);
  return new Promise(() => {}); // the page is leaving
}

async function finishSignIn(auth, params) {
  const verifier = sessionStorage.getItem(VERIFIER_KEY);
  const expected = sessionStorage.getItem(STATE_KEY);
  sessionStorage.removeItem(VERIFIER_KEY);
  sessionStorage.removeItem(STATE_KEY);
  if (!verifier || params.get("state") !== expected) {
    throw new Error("sign-in state mismatch: start again");
  }
  const response = await fetch(`${auth.domain}/oauth2/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      client_id: auth.clientId,
      code: params.get("code"),
      redirect_uri: auth.redirectUri,
      code_verifier: verifier,
    }),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok || !body.access_token) {
    throw new Error(body.error_description || body.error || `sign-in failed (${response.status})`);
  }
  sessionStorage.setItem(TOKEN_KEY, body.access_token);
  sessionStorage.setItem(EXPIRES_KEY, String(Date.now() + Number(body.expires_in || 3600) * 1000));
  // The code is spent: leave the callback address for the dashboard's own.
  window.history.replaceState(null, "", new URL(auth.logoutUri || "/", window.location.href).pathname);
}

/** The bearer token to send, signing in first when needed (may leave the page). */
export async function accessToken(config) {
  const auth = config.auth || {};
  if (auth.kind === "token") return auth.token;
  if (auth.kind !== "cognito") throw new Error(`unknown sign-in kind ${auth.kind}`);
  const token = storedToken();
  if (token) return token;
  const params = new URLSearchParams(window.location.search);
  const callback = new URL(auth.redirectUri).pathname;
  if (window.location.pathname === callback && params.has("code")) {
    await finishSignIn(auth, params);
    return storedToken();
  }
  if (params.has("error")) throw new Error(params.get("error_description") || params.get("error"));
  return startSignIn(auth);
}

/** Forget the token (after a 401 or on sign-out). */
export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(EXPIRES_KEY);
}

/** Where the sign-out link goes: Cognito's logout endpoint, which then returns to the site. */
export function signOutUrl(config) {
  const auth = config.auth || {};
  if (auth.kind !== "cognito") return null;
  const query = new URLSearchParams({ client_id: auth.clientId, logout_uri: auth.logoutUri });
  return `${auth.domain}/logout?${query}`;
}
