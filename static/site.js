/* Toolkit Exchange: small progressive enhancements. Every page works without this file. */
(function () {
  "use strict";

  function humanSize(bytes) {
    if (bytes < 1024) return bytes + " bytes";
    const units = ["KB", "MB", "GB"];
    let value = bytes / 1024;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
    return value.toFixed(1) + " " + units[unit];
  }

  function typeLabel(file) {
    const ext = (file.name.split(".").pop() || "").toLowerCase();
    return ext && ext !== file.name.toLowerCase() ? ext.toUpperCase() + " file" : (file.type || "File");
  }

  /* "Copy credit line" buttons. */
  function enhanceCopyButtons(root) {
    root.querySelectorAll("[data-copy]").forEach(function (button) {
      const source = document.querySelector(button.getAttribute("data-copy"));
      if (!source || !navigator.clipboard) return;
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(source.textContent.trim()).then(function () {
          announce("Credit line copied.");
          button.textContent = "Copied ✓";
          setTimeout(function () { button.textContent = "Copy credit line"; }, 2500);
        });
      });
    });
  }

  /* Standard-topic chips add themselves to the comma-separated Tags field. */
  function enhanceTagChips(root) {
    const input = root.querySelector("input[data-topics]");
    if (!input) return;
    function current() {
      return input.value.split(",").map(function (t) { return t.trim().toLowerCase(); }).filter(Boolean);
    }
    function sync() {
      const tags = current();
      root.querySelectorAll("[data-add-tag]").forEach(function (chip) {
        chip.setAttribute("aria-pressed", tags.indexOf(chip.dataset.addTag) >= 0 ? "true" : "false");
      });
    }
    root.querySelectorAll("[data-add-tag]").forEach(function (chip) {
      chip.addEventListener("click", function () {
        const tags = current();
        const tag = chip.dataset.addTag;
        const at = tags.indexOf(tag);
        if (at >= 0) { tags.splice(at, 1); } else { tags.push(tag); }
        input.value = tags.join(", ");
        sync();
      });
    });
    input.addEventListener("input", sync);
    sync();
  }

  function announce(message) {
    const region = document.querySelector(".flashes");
    if (!region) return;
    const p = document.createElement("p");
    p.className = "flash flash-success";
    p.textContent = message;
    region.replaceChildren(p);
  }

  /* Upload forms: drag and drop, a list of chosen files with "Remove", a progress bar,
     and files kept in the page when the server asks for a correction. */
  let keptFiles = [];

  function enhanceUploadForm(form) {
    const input = form.querySelector("input[type=file]");
    const list = form.querySelector("[data-file-list]");
    const zone = form.querySelector("[data-dropzone]");
    if (!input || !window.FormData || !window.XMLHttpRequest) return;
    const maxBytes = parseInt(form.dataset.maxBytes || "0", 10);

    function render() {
      if (!list) return;
      list.replaceChildren();
      keptFiles.forEach(function (file, index) {
        const li = document.createElement("li");
        const name = document.createElement("span");
        name.className = "file-name";
        name.textContent = file.name;
        const meta = document.createElement("span");
        meta.className = "meta";
        meta.textContent = typeLabel(file) + " · " + humanSize(file.size);
        const remove = document.createElement("button");
        remove.type = "button";
        remove.className = "button";
        remove.textContent = "Remove";
        remove.setAttribute("aria-label", "Remove " + file.name);
        remove.addEventListener("click", function () {
          keptFiles.splice(index, 1);
          render();
          input.focus();
          announce(file.name + " removed.");
        });
        li.append(name, meta, remove);
        list.append(li);
      });
      const total = keptFiles.reduce(function (sum, f) { return sum + f.size; }, 0);
      if (maxBytes && total > maxBytes) {
        const warn = document.createElement("li");
        warn.className = "error";
        warn.textContent = "These files add up to " + humanSize(total) + ", over the " + humanSize(maxBytes) + " limit. Please remove some.";
        list.append(warn);
      }
    }

    function add(files) {
      Array.prototype.forEach.call(files, function (file) {
        const duplicate = keptFiles.some(function (f) { return f.name === file.name && f.size === file.size; });
        if (!duplicate) keptFiles.push(file);
      });
      input.value = "";
      render();
    }

    input.addEventListener("change", function () { add(input.files); });
    if (zone) {
      ["dragenter", "dragover"].forEach(function (type) {
        zone.addEventListener(type, function (event) {
          event.preventDefault();
          zone.classList.add("is-dragover");
        });
      });
      ["dragleave", "drop"].forEach(function (type) {
        zone.addEventListener(type, function (event) {
          event.preventDefault();
          zone.classList.remove("is-dragover");
        });
      });
      zone.addEventListener("drop", function (event) {
        if (event.dataTransfer && event.dataTransfer.files) add(event.dataTransfer.files);
      });
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      const total = keptFiles.reduce(function (sum, f) { return sum + f.size; }, 0);
      if (maxBytes && total > maxBytes) {
        render();
        input.focus();
        return;
      }
      send(form, input);
    });
    render();
  }

  function send(form, input) {
    const data = new FormData(form);
    data.delete(input.name);
    keptFiles.forEach(function (file) { data.append(input.name, file, file.name); });
    const progress = form.querySelector("[data-progress]");
    const bar = progress && progress.querySelector("progress");
    const text = progress && progress.querySelector("[data-progress-text]");
    const button = form.querySelector("button[type=submit]");
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.getAttribute("action") || window.location.href);
    xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    xhr.upload.addEventListener("progress", function (event) {
      if (!event.lengthComputable || !bar) return;
      const percent = Math.round((event.loaded / event.total) * 100);
      bar.value = percent;
      text.textContent = percent + "%";
    });
    xhr.addEventListener("load", function () { received(xhr); });
    xhr.addEventListener("error", function () {
      failed(form, button, progress, "The upload was interrupted. Please check your connection and try again.");
    });
    if (progress) progress.hidden = false;
    if (button) button.disabled = true;
    xhr.send(data);
  }

  function received(xhr) {
    const type = xhr.getResponseHeader("Content-Type") || "";
    if (type.indexOf("application/json") === 0) {
      window.location.assign(JSON.parse(xhr.responseText).redirect);
      return;
    }
    /* The server re-showed the page with a problem named: swap it in, keep the files. */
    const page = new DOMParser().parseFromString(xhr.responseText, "text/html");
    const main = page.querySelector("main");
    if (!main) return;
    document.querySelector("main").replaceWith(main);
    document.title = page.title;
    enhance(main);
    const summary = main.querySelector("#error-summary, .error-page h1");
    if (summary) { summary.setAttribute("tabindex", "-1"); summary.focus(); }
  }

  function failed(form, button, progress, message) {
    if (button) button.disabled = false;
    if (progress) progress.hidden = true;
    announce(message);
  }

  function focusErrorSummary(root) {
    const summary = root.querySelector("#error-summary");
    if (summary) summary.focus();
  }

  /* Facets start folded on phones, so results come first. */
  function enhanceSearch(root) {
    const fold = root.querySelector(".facets-fold");
    if (fold && window.matchMedia("(max-width: 48rem)").matches) fold.open = false;
  }

  function enhance(root) {
    enhanceSearch(root);
    enhanceCopyButtons(root);
    enhanceTagChips(root);
    root.querySelectorAll("form[data-upload-form]").forEach(enhanceUploadForm);
  }

  document.addEventListener("DOMContentLoaded", function () {
    enhance(document);
    focusErrorSummary(document);
  });
})();
