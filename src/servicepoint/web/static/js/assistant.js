// Chat widget: opens a panel, sends questions to /api/assistant/ask, shows the answer with its
// links and thumbs up/down. Answers land in a live region so screen readers announce them.
(function () {
  var root = document.querySelector(".chat-widget");
  if (!root) return;
  var toggle = root.querySelector(".chat-toggle");
  var panel = root.querySelector(".chat-panel");
  var log = root.querySelector(".chat-log");
  var form = root.querySelector(".chat-form");
  var input = root.querySelector("#chat-input");
  var close = root.querySelector(".chat-close");
  var lang = root.getAttribute("data-lang") || "de";
  var conversation = sessionStorage.getItem("sp-chat") || null;
  function open(show) {
    panel.hidden = !show;
    toggle.setAttribute("aria-expanded", show ? "true" : "false");
    if (show) input.focus(); else toggle.focus();
  }
  toggle.addEventListener("click", function (e) { e.preventDefault(); open(panel.hidden); });
  close.addEventListener("click", function () { open(false); });
  root.addEventListener("keydown", function (e) { if (e.key === "Escape" && !panel.hidden) open(false); });
  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text) n.textContent = text;
    return n;
  }
  function rate(data, helpful, box) {
    fetch("/api/assistant/feedback", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ conversation_id: data.conversation_id, message_id: data.message_id, helpful: helpful }) })
      .then(function (r) { box.textContent = form.getAttribute(r.ok ? "data-thanks" : "data-error"); })
      .catch(function () { box.textContent = form.getAttribute("data-error"); });
  }
  function show(data) {
    var wrap = el("div", "chat-answer");
    // A question in another language: its preface in that language (right to left for Arabic
    // or Farsi), then the details in German and English, each marked with its language.
    var parts = data.parts && data.parts.length ? data.parts : [{ text: data.reply }];
    parts.forEach(function (part) {
      var p = el("p", "", part.text);
      if (part.lang) { p.lang = part.lang; p.dir = part.dir || "ltr"; }
      wrap.appendChild(p);
    });
    if (data.actions.length) {
      var list = el("ul", "chat-actions");
      if (data.question_lang && data.question_lang !== data.lang && parts[0].lang === data.question_lang) {
        list.lang = data.question_lang; list.dir = data.dir || "ltr";
      }
      data.actions.forEach(function (a) {
        var li = el("li"); var link = el("a", "button", a.label);
        link.href = a.url; link.setAttribute("data-type", a.type);
        if (a.type === "clarify") link.addEventListener("click", function (e) { e.preventDefault(); send(a.label); });
        li.appendChild(link); list.appendChild(li);
      });
      wrap.appendChild(list);
    }
    if (data.service) {
      var src = el("p", "chat-source", form.getAttribute("data-source") + " ");
      var a = el("a", "", data.service.name); a.href = data.service.url; src.appendChild(a);
      wrap.appendChild(src);
    }
    var votes = el("p", "chat-votes");
    // Words, not emoji: they read the same everywhere, also without an emoji font.
    [[true, "data-helpful"], [false, "data-unhelpful"]].forEach(function (v) {
      var b = el("button", "chat-vote", form.getAttribute(v[1])); b.type = "button";

      b.addEventListener("click", function () { rate(data, v[0], votes); });
      votes.appendChild(b);
    });
    wrap.appendChild(votes);
    log.appendChild(wrap);
    log.scrollTop = log.scrollHeight;
  }
  function send(text) {
    var q = el("p", "chat-question", text);
    q.dir = "auto";
    log.appendChild(q);
    // The answer follows the language of the question; the page's language (?lang) is only the
    // fallback for messages too short to tell.
    fetch("/api/assistant/ask?lang=" + encodeURIComponent(lang), { method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ message: text, conversation_id: conversation }) })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (data) { conversation = data.conversation_id; sessionStorage.setItem("sp-chat", conversation); show(data); })
      .catch(function () { log.appendChild(el("p", "chat-error", form.getAttribute("data-error"))); });
  }
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    send(text);
  });
})();
