// Validate host rules on the node (Cedar syntax, forbid only, @id names, the request schema) before saving.
"use strict";
(() => {
  const button = document.getElementById("validate");
  const out = document.getElementById("validation");
  if (!button) return;
  button.addEventListener("click", async () => {
    const result = await window.tearline.post("/console/workspaces/validate", {policy: document.getElementById("policy").value});
    if (result.ok) {
      out.className = "notice";
      out.textContent = `${out.dataset.ok} ${result.data.rules.join(", ") || "—"}`;
    } else {
      out.className = "error";
      out.textContent = `${out.dataset.bad} ${window.tearline.problems(result.data).map((p) => p.reason).join("; ")}`;
    }
  });
})();
