(function () {
  "use strict";
  var form = document.getElementById("letter-form");
  var drop = document.getElementById("drop");
  var file = document.getElementById("file");
  var button = document.getElementById("read-button");
  if (!form || !drop || !file) { return; }
  function send() {
    form.classList.add("busy");
    if (button) { button.disabled = true; button.textContent = "Reading…"; }
    form.submit();
  }
  ["dragenter", "dragover"].forEach(function (name) {
    drop.addEventListener(name, function (ev) { ev.preventDefault(); drop.classList.add("over"); });
  });
  ["dragleave", "dragend"].forEach(function (name) {
    drop.addEventListener(name, function () { drop.classList.remove("over"); });
  });
  // a letter dropped anywhere on the page is read (the browser would otherwise open the file)
  document.addEventListener("dragover", function (ev) { ev.preventDefault(); });
  document.addEventListener("drop", function (ev) {
    ev.preventDefault();
    drop.classList.remove("over");
    if (ev.dataTransfer && ev.dataTransfer.files && ev.dataTransfer.files.length) {
      file.files = ev.dataTransfer.files;
      send();
    }
  });
  file.addEventListener("change", function () { if (file.files && file.files.length) { send(); } });
  form.addEventListener("submit", function () {
    form.classList.add("busy");
    if (button) { button.disabled = true; button.textContent = "Reading…"; }
  });
})();
