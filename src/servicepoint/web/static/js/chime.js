// Call display chime: a short two-tone sound made with the Web Audio API (no audio file), off
// until someone presses the button or the screen is opened with ?ton=1. Browsers start sound
// only after a user gesture, so with ?ton=1 the first touch or key press unlocks it (a kiosk
// browser started with an autoplay policy plays at once). `window.servicepointChime` lets a
// test see the state and how often it rang.
(function () {
  var board = document.getElementById("board");
  var button = document.querySelector("[data-chime-toggle]");
  if (!board || !button) return;
  var state = (window.servicepointChime = { enabled: false, played: 0 });
  var ctx = null;

  function audio() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    try {
      if (!ctx && Ctx) ctx = new Ctx();
    } catch (err) {
      return null; // no audio output on this machine: the display works on, silently
    }
    if (ctx && ctx.state === "suspended") ctx.resume().catch(function () {});
    return ctx;
  }
  function tone(ac, freq, start) {
    var osc = ac.createOscillator();
    var gain = ac.createGain();
    osc.type = "sine";
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, start);
    gain.gain.exponentialRampToValueAtTime(0.3, start + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.6);
    osc.connect(gain).connect(ac.destination);
    osc.start(start);
    osc.stop(start + 0.65);
  }
  function chime() {
    var ac = audio();
    state.played += 1;
    if (!ac) return;
    tone(ac, 880, ac.currentTime);
    tone(ac, 660, ac.currentTime + 0.35);
  }
  function set(on) {
    state.enabled = on;
    button.setAttribute("aria-pressed", on ? "true" : "false");
  }
  function latest() {
    var marked = board.querySelector("[data-latest]");
    return marked ? marked.getAttribute("data-latest") : "";
  }

  button.hidden = false;
  button.addEventListener("click", function () {
    set(!state.enabled);
    if (state.enabled) audio(); // inside the click: the gesture that allows sound
  });
  if (new URLSearchParams(window.location.search).get("ton") === "1") {
    set(true);
    document.addEventListener("pointerdown", audio, { once: true });
    document.addEventListener("keydown", audio, { once: true });
  }
  var seen = latest();
  new MutationObserver(function () {
    var now = latest();
    if (now && now !== seen && state.enabled) chime();
    seen = now;
  }).observe(board, { childList: true, subtree: true });
})();
