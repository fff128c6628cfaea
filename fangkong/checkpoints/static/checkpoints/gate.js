/* The gate page (checkpoints/gate.html): a person found by the search fills the next free
   row, Enter records, a double tap sends once. Without this script the same buttons submit
   the form and the server does the same. */
(function () {
  "use strict";
  var form = document.getElementById("gate-form");
  if (!form) return;

  function rows() { return form.querySelectorAll(".gate-person"); }
  function field(row, role) { return row.querySelector('[data-role="' + role + '"]'); }
  function isFree(row) {
    return !["person", "name", "id_number", "phone"].some(function (role) {
      var input = field(row, role);
      return input && input.value.trim() !== "";
    });
  }
  function show(row, picked) {
    row.classList.toggle("picked", picked);
    row.querySelector(".picked-only").classList.toggle("d-none", !picked);
    row.querySelector(".outsider-only").classList.toggle("d-none", picked);
  }

  function pick(button) {
    var free = Array.prototype.find.call(rows(), isFree);
    if (!free) return true; /* no free row: let the server say so */
    field(free, "person").value = button.dataset.pk;
    free.querySelector(".person-label").textContent = button.dataset.label;
    show(free, true);
    var more = free.closest("details");
    if (more) more.open = true;
    tidyRows();
    document.getElementById("gate-matches").innerHTML = "";
    var search = document.getElementById("gate-q");
    search.value = "";
    field(free, "temperature").focus();
    return false;
  }

  function clear(button) {
    var row = button.closest(".gate-person");
    ["person", "name", "id_number", "phone", "temperature"].forEach(function (role) {
      var input = field(row, role);
      if (input) input.value = "";
    });
    row.querySelector(".person-label").textContent = "";
    show(row, false);
    return false;
  }

  function searchKey(event) {
    if (event.key !== "Enter") return;
    event.preventDefault();
    var matches = document.querySelectorAll("#gate-matches .gate-match");
    if (matches.length === 1) pick(matches[0]);
  }

  /* Enter in any other field records (the first button of the form is "find"). */
  form.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.key !== "Enter" || target.id === "gate-q" || target.tagName !== "INPUT") return;
    if (target.type === "search") return;
    event.preventDefault();
    document.getElementById("record").click();
  });

  var sent = false;
  form.addEventListener("submit", function (event) {
    var submitter = event.submitter;
    if (submitter && submitter.id !== "record") return;
    if (sent) { event.preventDefault(); return; }
    sent = true;
    document.getElementById("record").classList.add("disabled");
  });
  window.addEventListener("pageshow", function () {
    sent = false;
    var button = document.getElementById("record");
    if (button) button.classList.remove("disabled");
  });

  /* Of the extra rows, show the next free one only; typing in a row shows the next. */
  function tidyRows() {
    var more = document.getElementById("gate-more");
    if (!more) return;
    var shownFree = false;
    more.querySelectorAll(".gate-person").forEach(function (row) {
      var free = isFree(row) && !field(row, "temperature").value;
      row.classList.toggle("d-none", free && shownFree);
      if (free) shownFree = true;
    });
  }
  form.addEventListener("input", function (event) {
    if (event.target.closest && event.target.closest("#gate-more")) tidyRows();
  });
  tidyRows();

  window.fkGate = { pick: pick, clear: clear, searchKey: searchKey };
})();
