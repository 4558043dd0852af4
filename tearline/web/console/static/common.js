// Shared by the console's pages: JSON calls that carry the session's CSRF token, and the banners.
"use strict";
window.tearline = {
  csrf: () => document.body.dataset.csrf,
  post: async (url, body) => {
    const response = await fetch(url, {
      method: "POST",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": document.body.dataset.csrf},
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    return {ok: response.ok, status: response.status, data};
  },
  setBanner: (text) => {
    for (const id of ["banner-top", "banner-bottom"]) {
      const el = document.getElementById(id);
      if (el) { el.textContent = text; }
    }
  },
  problems: (data) => (data && data.problems ? data.problems : [{field: "", reason: (data && data.message) || "error"}]),
};
