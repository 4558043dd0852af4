// The marking editor: every portion and object is marked from the national scheme; the banner is
// rolled up by the node (POST /console/banner) as the marks change, and an invalid marking is
// refused there with its reason. Saving makes a new version through the API's own edit.
"use strict";
(() => {
  const draft = JSON.parse(document.getElementById("draft").textContent);
  const choices = JSON.parse(document.getElementById("choices").textContent);
  const T = JSON.parse(document.getElementById("texts").textContent);
  const itemsEl = document.getElementById("items");
  const problemsEl = document.getElementById("problems");
  const author = choices.author;
  const items = [];

  const fresh = () => ({originator: {...author}, level: choices.levels[author.nation][0], rel_to: [author.nation], controls: [], compartments: []});
  const clean = (m) => { const out = {...m}; delete out.portion_mark; return out; };

  if (draft) {
    items.push({kind: "title", text: draft.title || "", marking: clean(draft.title_marking || fresh())});
    for (const p of draft.portions) items.push({kind: "portion", text: p.text, marking: clean(p.marking)});
    for (const o of draft.objects) items.push({kind: "object", object: o, marking: clean(o.marking)});
  } else {
    items.push({kind: "title", text: "", marking: fresh()});
    items.push({kind: "portion", text: "", marking: fresh()});
  }

  const checkboxes = (name, values, chosen, onChange) => {
    const span = document.createElement("span");
    span.className = "choices";
    for (const value of values) {
      const label = document.createElement("label");
      const box = document.createElement("input");
      box.type = "checkbox"; box.value = value; box.checked = chosen.includes(value);
      box.dataset.field = name;
      box.addEventListener("change", () => onChange([...span.querySelectorAll("input:checked")].map((b) => b.value)));
      label.append(box, " " + value);
      span.append(label);
    }
    return span;
  };

  const field = (label, control) => {
    const wrap = document.createElement("label");
    wrap.className = "field";
    wrap.append(label + " ", control);
    return wrap;
  };

  const render = () => {
    itemsEl.replaceChildren();
    items.forEach((item, i) => {
      const box = document.createElement("fieldset");
      box.className = "item " + item.kind;
      box.dataset.index = i;
      box.dataset.testid = "item-" + i;
      const legend = document.createElement("legend");
      const number = items.slice(0, i).filter((x) => x.kind === item.kind).length + 1;
      legend.textContent = item.kind === "title" ? T.title : item.kind === "portion" ? `${T.portion} ${number}` : `${T.object}: ${item.object.type} · ${item.object.name}`;
      const mark = document.createElement("span");
      mark.className = "mark live-mark";
      legend.append(" ", mark);
      box.append(legend);
      if (item.kind !== "object") {
        const text = document.createElement(item.kind === "title" ? "input" : "textarea");
        text.value = item.text; text.className = "text";
        text.addEventListener("input", () => { item.text = text.value; });
        box.append(text);
      }
      const m = item.marking;
      const nation = m.originator.nation;
      const level = document.createElement("select");
      level.dataset.field = "level";
      for (const label of choices.levels[nation] || []) {
        const option = new Option(label, label, false, label === m.level);
        level.append(option);
      }
      level.addEventListener("change", () => { m.level = level.value; changed(); });
      box.append(field(`${T.originator}: ${nation}/${m.originator.agency} · ${T.level}`, level));
      box.append(field(T.rel_to, checkboxes("rel_to", choices.nations, m.rel_to, (v) => { m.rel_to = v; changed(); })));
      box.append(field(T.controls, checkboxes("controls", choices.controls, m.controls || [], (v) => { m.controls = v; changed(); })));
      if (choices.compartments.length) {
        box.append(field(T.compartments, checkboxes("compartments", choices.compartments, m.compartments || [], (v) => { m.compartments = v; changed(); })));
      }
      if (m.source_fields && m.source_fields.length) {
        const note = document.createElement("p");
        note.className = "hint";
        note.textContent = `${T.source} ${m.source_grade || "?"} (${m.source_fields.join(", ")})`;
        box.append(note);
      }
      if (item.kind === "portion") {
        const remove = document.createElement("button");
        remove.type = "button"; remove.textContent = T.remove;
        remove.addEventListener("click", () => { items.splice(i, 1); render(); changed(); });
        box.append(remove);
      }
      const problem = document.createElement("p");
      problem.className = "error item-problem";
      problem.hidden = true;
      box.append(problem);
      itemsEl.append(box);
    });
  };

  let timer = null;
  let sequence = 0;
  const changed = () => { clearTimeout(timer); timer = setTimeout(preview, 120); };

  const showItemProblems = (problems) => {
    const byItem = new Map();
    for (const p of problems) {
      const match = /^markings\[(\d+)\]/.exec(p.field || "");
      const index = match ? Number(match[1]) : -1;
      byItem.set(index, [...(byItem.get(index) || []), `${p.field}: ${p.reason}`]);
    }
    itemsEl.querySelectorAll("fieldset.item").forEach((box) => {
      const el = box.querySelector(".item-problem");
      const lines = byItem.get(Number(box.dataset.index));
      el.hidden = !lines; el.textContent = lines ? lines.join("; ") : "";
    });
    return byItem.get(-1) || [];
  };

  const preview = async () => {
    const mine = ++sequence;
    const result = await window.tearline.post("/console/banner", {markings: items.map((x) => x.marking)});
    if (mine !== sequence) return;  // a later edit has already asked
    if (result.ok) {
      window.tearline.setBanner(result.data.banner);
      itemsEl.querySelectorAll(".live-mark").forEach((el, i) => { el.textContent = result.data.marks[i]; });
      showItemProblems([]);
      problemsEl.hidden = true;
    } else {
      const general = showItemProblems(window.tearline.problems(result.data));
      window.tearline.setBanner(T.no_banner);
      problemsEl.hidden = false;
      problemsEl.textContent = [T.refused, ...window.tearline.problems(result.data).map((p) => `${p.field}: ${p.reason}`)].join(" ");
      void general;
    }
  };

  const body = () => {
    const title = items.find((x) => x.kind === "title");
    const due = document.getElementById("review_due").value;
    return {
      title: {text: title.text, marking: title.marking},
      portions: items.filter((x) => x.kind === "portion").map((x) => ({text: x.text, marking: x.marking})),
      objects: items.filter((x) => x.kind === "object").map((x) => ({
        id: x.object.id, type: x.object.type, name: x.object.name, properties: x.object.properties,
        marking: x.marking, observed_at: x.object.observed_at, latitude: x.object.latitude, longitude: x.object.longitude,
      })),
      predicate: document.getElementById("predicate").value,
      need_to_know: document.getElementById("need_to_know").value,
      review_due: due ? `${due}T00:00:00Z` : null,
    };
  };

  const save = async () => {
    const data = body();
    if (!data.predicate.trim() || !data.need_to_know.trim() || !data.review_due) {
      problemsEl.hidden = false; problemsEl.textContent = T.required; return;
    }
    const id = document.getElementById("editor").dataset.report;
    const result = await window.tearline.post(id ? `/console/reports/${id}` : "/console/reports", data);
    if (result.ok) {
      window.location.assign(`/reports/${result.data.id}`);
      return;
    }
    problemsEl.hidden = false;
    problemsEl.textContent = [T.refused, ...window.tearline.problems(result.data).map((p) => `${p.field}: ${p.reason}`)].join(" ");
  };

  document.getElementById("add-portion").addEventListener("click", () => {
    const at = items.filter((x) => x.kind !== "object").length;
    items.splice(at, 0, {kind: "portion", text: "", marking: fresh()});
    render(); changed();
  });
  document.getElementById("save").addEventListener("click", save);
  render();
  preview();
})();
