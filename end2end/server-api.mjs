// Calls to a running Teamroom's server functions from node, for the
// benchmark and Lighthouse scripts (the browser tests use Playwright's).

/** POSTs `form` to `/api/{endpoint}` as a form would; throws unless 2xx. */
export async function post(base, endpoint, form, cookie) {
  const response = await fetch(`${base}/api/${endpoint}`, {
    method: 'POST',
    headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
    body: new URLSearchParams(form),
  });
  if (!response.ok) throw new Error(`${endpoint}: ${response.status} ${await response.text()}`);
  return response;
}

/** The cookies a response sets, as `name=value` pairs (cleared ones left out). */
export function cookiePairs(response) {
  return response.headers
    .getSetCookie()
    .map((line) => line.split(';')[0])
    .filter((pair) => !pair.endsWith('='));
}
