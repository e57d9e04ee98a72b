/* The triage queue « À trier »: keyboard use and saving each field as it changes.
   The page works without this file: the form's buttons save everything that changed. */
(function () {
  "use strict";
  var form = document.querySelector("form.triage-form");
  if (!form) { return; }
  var saveUrl = form.getAttribute("data-save-url");
  var token = form.getAttribute("data-csrf");
  var items = Array.prototype.slice.call(form.querySelectorAll("li.triage-item"));

  function say(item, text) {
    var status = item.querySelector(".save-state");
    if (status) { status.textContent = text; }
  }

  function save(field) {
    var item = field.closest("li.triage-item");
    var doc = item.getAttribute("data-doc");
    var orig = form.querySelector('input[name="orig-' + field.name + '"]');
    var value = field.value;
    if (field.type === "radio") {
      var checked = item.querySelector('input[name="' + field.name + '"]:checked');
      value = checked ? checked.value : "";
    }
    if (orig && orig.value === value) { return; }
    var body = new URLSearchParams();
    body.append(field.name, value);
    body.append("orig-" + field.name, orig ? orig.value : "");
    say(item, "Enregistrement…");
    fetch(saveUrl.replace("DOC", encodeURIComponent(doc)), {
      method: "POST", body: body, credentials: "same-origin",
      headers: {"X-CSRF-Token": token, "Accept": "application/json"}
    }).then(function (response) {
      return response.json().then(function (data) { return {ok: response.ok, data: data}; });
    }).then(function (result) {
      if (result.ok) {
        if (orig) { orig.value = value; }   // the next change compares with what is saved
        if (field.name.indexOf("decision-") === 0) {
          item.className = item.className.replace(/decision-\S+/, "decision-" + (value || "none"));
        }
        say(item, "Enregistré.");
      } else {
        say(item, result.data.error || "Non enregistré.");
      }
    }).catch(function () { say(item, "Non enregistré : le serveur ne répond pas."); });
  }

  form.addEventListener("change", function (event) {
    var field = event.target;
    if (field.name && /^(decision|comment|rubrique|position)-/.test(field.name)) { save(field); }
  });

  function current() {
    var active = document.activeElement;
    return active && active.closest ? active.closest("li.triage-item") : null;
  }

  function focusItem(index) {
    if (index < 0 || index >= items.length) { return; }
    items[index].focus();
    items[index].scrollIntoView({block: "nearest"});
  }

  function decide(item, value) {
    var radio = item.querySelector('input[type="radio"][value="' + value + '"]');
    if (radio) { radio.checked = true; save(radio); }
  }

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    var typing = target.tagName === "TEXTAREA" || (target.tagName === "INPUT" && target.type !== "radio"
      && target.type !== "checkbox");
    if (event.key === "Escape" && typing) {
      var owner = target.closest("li.triage-item");
      if (owner) { owner.focus(); }
      return;
    }
    if (typing || event.ctrlKey || event.metaKey || event.altKey) { return; }
    var item = current();
    var index = item ? items.indexOf(item) : -1;
    switch (event.key) {
      case "j": focusItem(index + 1); break;
      case "k": focusItem(Math.max(0, index - 1)); break;
      case "g": if (item) { decide(item, "keep"); } break;
      case "e": if (item) { decide(item, "aside"); } break;
      case "u": if (item) { decide(item, ""); } break;
      case "x":
        if (item) { var box = item.querySelector('input[type="checkbox"]'); box.checked = !box.checked; }
        break;
      case "c":
        if (item) { item.querySelector("textarea").focus(); }
        break;
      default: return;
    }
    event.preventDefault();
  });
}());
