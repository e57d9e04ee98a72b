/* The upload page, improved when scripts run: drop files on the form, see the upload's
   progress. Without this script the form works as it is (a plain multipart POST). */
(function () {
  "use strict";

  function humanSize(bytes) {
    if (bytes < 1024) { return bytes + " octets"; }
    if (bytes < 1048576) { return Math.round(bytes / 1024) + " Ko"; }
    return (bytes / 1048576).toFixed(1).replace(".", ",") + " Mo";
  }

  function start() {
    var form = document.querySelector("form.upload-form");
    if (!form || !window.FormData || !window.XMLHttpRequest) { return; }
    document.documentElement.classList.add("js");
    var input = form.querySelector("input[type=file]");
    var zone = form.querySelector(".drop-zone");
    var chosen = form.querySelector("ul.chosen");
    var box = form.querySelector(".upload-progress");
    var bar = box.querySelector("progress");
    var status = box.querySelector(".upload-status");
    var button = form.querySelector("button[type=submit]");
    var maxBytes = parseInt(form.getAttribute("data-max-bytes"), 10) || 0;

    function showChosen() {
      chosen.textContent = "";
      var total = 0;
      Array.prototype.forEach.call(input.files, function (file) {
        var item = document.createElement("li");
        item.textContent = file.name + " (" + humanSize(file.size) + ")";
        chosen.appendChild(item);
        total += file.size;
      });
      if (maxBytes && total > maxBytes) {
        var warning = document.createElement("li");
        warning.className = "warn";
        warning.textContent = "Ensemble trop volumineux pour un seul envoi : déposez-les en plusieurs fois.";
        chosen.appendChild(warning);
      }
    }

    input.addEventListener("change", showChosen);
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) {
        event.preventDefault();
        zone.classList.add("over");
      });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () { zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      if (!event.dataTransfer || !event.dataTransfer.files.length) { return; }
      try {   // add the dropped files to those already chosen
        var all = new DataTransfer();
        Array.prototype.forEach.call(input.files, function (f) { all.items.add(f); });
        Array.prototype.forEach.call(event.dataTransfer.files, function (f) { all.items.add(f); });
        input.files = all.files;
      } catch (e) {
        input.files = event.dataTransfer.files;
      }
      showChosen();
    });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var request = new XMLHttpRequest();
      request.open("POST", form.action);
      request.responseType = "document";
      box.hidden = false;
      button.disabled = true;
      bar.value = 0;
      status.textContent = "Envoi en cours…";
      request.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) {
          bar.value = Math.round(100 * e.loaded / e.total);
          status.textContent = "Envoi : " + bar.value + " %";
        }
      });
      request.upload.addEventListener("load", function () {
        bar.removeAttribute("value");   // indeterminate while the server reads the files
        status.textContent = "Fichiers reçus : lecture et indexation en cours…";
      });
      request.addEventListener("load", function () {
        var page = request.response;
        if (page && page.documentElement) {   // the server's page: results or problems
          document.replaceChild(document.adoptNode(page.documentElement), document.documentElement);
          window.scrollTo(0, 0);
        } else {
          status.textContent = "Réponse inattendue du serveur (" + request.status + ").";
          button.disabled = false;
        }
      });
      request.addEventListener("error", function () {
        status.textContent = "L'envoi a échoué (connexion interrompue) : réessayez.";
        button.disabled = false;
      });
      request.send(new FormData(form));
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
