// The inbox listens to the node's server-sent events (GET /api/stream) where the node offers them:
// new reports, releases received, consent requests, answers and revocations, recalls, and this node's
// own release requests, decisions and recalls appear as they happen. An event's `id` is only where the
// stream resumes (opaque): it is never shown.
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
  // A decision on one of our release requests is labelled by its outcome: an approval that waits for a
  // second officer (two-person rule), the final one that sent the release, or a denial.
  const labelOf = (kind, data) => {
    if (kind !== "release-decision") return labels[kind] || kind;
    const key = data.outcome === "denied" ? "release-denied" : (data.final ? "release-disseminated" : "release-approved");
    return labels[key] || kind;
  };
  const show = (kind) => (event) => {
    let data = {};
    try { data = JSON.parse(event.data); } catch (e) { data = {text: event.data}; }
    const item = document.createElement("li");
    item.className = "event " + kind;
    const what = document.createElement("strong");
    what.textContent = labelOf(kind, data);
    const detail = document.createElement("span");
    const report = data.report || (data.release && data.release.report) || "";
    // A release request of ours is numbered (as the queue above shows it) and names its recipient.
    const ours = kind.startsWith("release-") && kind !== "release-received";
    const numbered = ours && Number.isInteger(data.request) ? "#" + data.request : "";
    const to = data.recipient && typeof data.recipient.nation === "string"
      ? data.recipient.nation + "/" + (data.recipient.agency || "*") : "";
    // A consent event names its request or consent, and an answer says which it was; a recall, its release.
    const named = [data.title, data.banner, report, numbered, to, data.request, data.consent, data.answer, data.release];
    detail.textContent = " " + named.filter((part) => typeof part === "string" && part).join(" · ");
    item.append(what, detail);
    const request = ours && kind !== "release-recall" && numbered ? "/review/" + data.request : "";
    const target = request || (typeof report === "string" && report.startsWith("report--") ? "/reports/" + report : "");
    if (target) {
      const link = document.createElement("a");
      link.href = target; link.textContent = " →";
      item.append(link);
    }
    list.prepend(item);
  };
  const kinds = [
    "report", "release-received", "consent-request", "consent-answer", "consent-revoke", "recall",
    "release-request", "release-decision", "release-recall",
  ];
  for (const kind of kinds) {
    source.addEventListener(kind, show(kind));
  }
})();
