// A page opened at an anchor such as #ergebnisse (the slot search sends the browser there):
// the browser scrolls to the target, this moves keyboard focus there too, so the next Tab and
// a screen reader go on from the results, not from the top of the page.
(function () {
  var id = decodeURIComponent(window.location.hash.slice(1));
  var target = id && document.getElementById(id);
  if (target && target.getAttribute("tabindex") === "-1") target.focus();
})();
