/* "Reading your files…": asks the resource's status address every two seconds and shows
   each file's progress; once the files are read, opens the resource (or its privacy
   review). The page works without this file: its "Refresh" link shows the same. */
(function () {
  "use strict";

  const EVERY_MS = 2000;

  function render(box, status) {
    const list = box.querySelector("[data-reading-files]");
    const summary = box.querySelector("[data-reading-summary]");
    if (summary) summary.textContent = status.summary;
    if (!list) return;
    list.replaceChildren.apply(list, status.files.map(function (file) {
      const item = document.createElement("li");
      const name = document.createElement("span");
      const state = document.createElement("span");
      item.dataset.state = file.state;
      name.className = "reading-name";
      name.textContent = file.name;
      state.className = "reading-state";
      state.textContent = file.label + (file.note ? " (" + file.note + ")" : "");
      item.append(name, ": ", state);
      return item;
    }));
  }

  function watch(box) {
    const address = box.getAttribute("data-reading");
    function ask() {
      fetch(address, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (answer) { return answer.ok ? answer.json() : null; })
        .then(function (status) {
          if (!status) { window.setTimeout(ask, EVERY_MS * 2); return; }
          render(box, status);
          if (!status.reading || status.problem) { window.location.assign(status.next); return; }
          window.setTimeout(ask, EVERY_MS);
        })
        .catch(function () { window.setTimeout(ask, EVERY_MS * 2); });
    }
    if (!box.querySelector("[data-reading-summary]")) return; /* stopped on a problem */
    window.setTimeout(ask, EVERY_MS);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-reading]").forEach(watch);
  });
})();
