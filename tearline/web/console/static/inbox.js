// The inbox listens to the node's server-sent events (GET /api/stream) where the node offers them:
// new reports, releases received, consent requests, answers and revocations, and recalls appear as
// they happen. An event's `id` is only where the stream resumes (opaque): it is never shown.
"use strict";
(() => {
  const state = document.getElementById("live-state");
  const list = document.getElementById("live-events");
  if (!state || !list) return;
  const labels = JSON.parse(list.dataset.labels || "{}");
  if (!("EventSource" in window)) { state.textContent = state.dataset.off; return; }
  // From the page's own moment on: what came before is already in the lists above.
  // `after` is an event id as the stream gives them: opaque, passed on as it is.
  const after = list.dataset.after ? `?after=${encodeURIComponent(list.dataset.after)}` : "";
  const source = new EventSource(`/api/stream${after}`, {withCredentials: true});
  source.addEventListener("open", () => { state.textContent = state.dataset.on; });
  source.addEventListener("error", () => {
    if (source.readyState === EventSource.CLOSED) { state.textContent = state.dataset.off; }
  });
  const show = (kind) => (event) => {
    let data = {};
    try { data = JSON.parse(event.data); } catch (e) { data = {text: event.data}; }
    const item = document.createElement("li");
    item.className = "event " + kind;
    const what = document.createElement("strong");
    what.textContent = labels[kind] || kind;
    const detail = document.createElement("span");
    const report = data.report || (data.release && data.release.report) || "";
    // A consent event names its request or consent, and an answer says which it was.
    const named = [data.title, data.banner, report, data.request, data.consent, data.answer];
    detail.textContent = " " + named.filter((part) => typeof part === "string" && part).join(" · ");
    item.append(what, detail);
    if (typeof report === "string" && report.startsWith("report--")) {
      const link = document.createElement("a");
      link.href = "/reports/" + report; link.textContent = " →";
      item.append(link);
    }
    list.prepend(item);
  };
  const kinds = ["report", "release-received", "consent-request", "consent-answer", "consent-revoke", "recall"];
  for (const kind of kinds) {
    source.addEventListener(kind, show(kind));
  }
})();
