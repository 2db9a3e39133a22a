// Solves the booking form's proof-of-work challenge in the background (see core/challenge.py):
// find a nonce so that SHA-256(challenge + ":" + nonce) starts with `difficulty` zero bits.
(function () {
  var forms = document.querySelectorAll("form[data-challenge]");
  if (!forms.length || !window.crypto || !window.crypto.subtle) return;
  function zeroBits(bytes) {
    var bits = 0;
    for (var i = 0; i < bytes.length; i++) {
      if (bytes[i] === 0) { bits += 8; continue; }
      var b = bytes[i]; while ((b & 0x80) === 0) { bits++; b <<= 1; }
      return bits;
    }
    return bits;
  }
  async function solve(challenge) {
    var difficulty = parseInt(challenge.split(":")[2], 10);
    var enc = new TextEncoder();
    for (var nonce = 0; ; nonce++) {
      var digest = await crypto.subtle.digest("SHA-256", enc.encode(challenge + ":" + nonce));
      if (zeroBits(new Uint8Array(digest)) >= difficulty) return String(nonce);
    }
  }
  forms.forEach(function (form) {
    var field = form.querySelector("input[name=pow_nonce]");
    var button = form.querySelector("button[type=submit]");
    var status = form.querySelector("[data-challenge-status]");
    if (button) button.disabled = true;
    solve(form.getAttribute("data-challenge")).then(function (nonce) {
      field.value = nonce;
      if (button) button.disabled = false;
      if (status) status.textContent = status.getAttribute("data-done") || "";
    });
  });
})();
