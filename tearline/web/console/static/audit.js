// Verify an audit entry twice. In this browser: fetch the public inclusion proof and the entry's
// bytes, hash them (RFC 9162: SHA-256 of 0x00 || entry), walk the proof to a root, and compare it
// with the root of the signed checkpoint. On the node: check the signed tlog-proof with its key.
// The node withholds the bytes of an entry whose banner or subject this auditor may not see
// (`data` null): the proof is then walked from the entry's leaf hash, as the node gives it.
"use strict";
(() => {
  const out = document.getElementById("verification");
  if (!out) return;
  const b64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  const hex = (bytes) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  const sha256 = async (...parts) => {
    const joined = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) { joined.set(p, at); at += p.length; }
    return new Uint8Array(await crypto.subtle.digest("SHA-256", joined));
  };
  const nodeHash = (left, right) => sha256(new Uint8Array([1]), left, right);

  // RFC 9162 §2.1.3.2, as tearline.audit.merkle.verify_inclusion does it.
  const rootFromProof = async (leaf, index, size, proof) => {
    if (index >= size) throw new Error("index outside the tree");
    let fn = index, sn = size - 1, r = leaf;
    for (const p of proof) {
      if (sn === 0) throw new Error("proof too long");
      if ((fn & 1) === 1 || fn === sn) {
        r = await nodeHash(p, r);
        while ((fn & 1) === 0 && fn !== 0) { fn >>= 1; sn >>= 1; }
      } else {
        r = await nodeHash(r, p);
      }
      fn >>= 1; sn >>= 1;
    }
    if (sn !== 0) throw new Error("proof too short");
    return r;
  };

  const checkInBrowser = async (index) => {
    const proof = await (await fetch(`/api/audit/proof/inclusion?index=${index}`, {credentials: "same-origin"})).json();
    const leaf = await (await fetch(`/api/audit/leaves/${index}`, {credentials: "same-origin"})).json();
    const lines = proof.checkpoint.split("\n");
    const signedSize = Number(lines[1]);
    const signedRoot = lines[2];
    const leafHash = leaf.data === null ? b64(leaf.hash) : await sha256(new Uint8Array([0]), b64(leaf.data));
    const root = await rootFromProof(leafHash, index, proof.size, proof.hashes.map(b64));
    const ok = leaf.withheld !== "not-canonical" && signedSize === proof.size &&
      hex(root) === hex(b64(signedRoot)) && hex(leafHash) === hex(b64(leaf.hash));
    return {ok, size: proof.size, root: signedRoot};
  };

  const line = (text, ok) => {
    const p = document.createElement("p");
    p.className = ok ? "notice" : "error";
    p.textContent = text;
    return p;
  };

  document.querySelectorAll("button.verify").forEach((button) => button.addEventListener("click", async () => {
    const index = Number(button.dataset.index);
    out.replaceChildren(line(`${out.dataset.entry} ${index} …`, true));
    const parts = [];
    try {
      const browser = await checkInBrowser(index);
      parts.push(line(`${browser.ok ? out.dataset.browserOk : out.dataset.browserBad} (${out.dataset.entry} ${index}, ${out.dataset.size} ${browser.size}, root ${browser.root})`, browser.ok));
      parts[parts.length - 1].dataset.testid = "browser-result";
      parts[parts.length - 1].dataset.ok = String(browser.ok);
    } catch (e) {
      parts.push(line(`${out.dataset.browserBad} ${e}`, false));
    }
    const server = await window.tearline.post(`/console/audit/verify/${index}`, {});
    const ok = server.ok && server.data.verified;
    const serverLine = line(`${ok ? out.dataset.serverOk : out.dataset.serverBad}${ok ? ` (${server.data.origin}, ${out.dataset.size} ${server.data.size})` : ""}`, ok);
    serverLine.dataset.testid = "server-result";
    serverLine.dataset.ok = String(ok);
    parts.push(serverLine);
    out.replaceChildren(...parts);
  }));
})();
