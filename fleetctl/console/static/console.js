// fleetctl console: the only script. Asks before destructive forms and copies a minted token.
document.addEventListener("submit", function (event) {
  var question = event.target.getAttribute("data-confirm");
  if (question && !window.confirm(question)) event.preventDefault();
});
document.addEventListener("click", function (event) {
  var id = event.target.getAttribute && event.target.getAttribute("data-copy");
  if (!id) return;
  var field = document.getElementById(id);
  field.select();
  if (navigator.clipboard) navigator.clipboard.writeText(field.value);
  event.target.textContent = "Copied";
});
