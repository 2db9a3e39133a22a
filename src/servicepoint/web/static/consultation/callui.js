// The forms of the call page made live: chat over the WebSocket, documents with progress, the
// citizen's end of the call and the one-click rating. Each form also works without this script
// (a plain post and a page back), except the chat, which only exists in the call.

const $ = (id) => document.getElementById(id);

export function fill(text, values) {
  return String(text || "").replace(/\{(\w+)\}/g, (m, key) => (key in values ? String(values[key]) : m));
}

// Links in what the clerk or the server writes (e.g. the handover link) can be followed.
function withLinks(item, text, linkable) {
  const parts = linkable ? text.split(/(https?:\/\/[^\s<>"]+)/) : [text];
  parts.forEach((part, i) => {
    if (i % 2 === 1) {
      const a = document.createElement("a");
      a.href = part;
      a.rel = "noopener noreferrer";
      a.textContent = part;
      item.append(a);
    } else if (part) {
      item.append(document.createTextNode(part));
    }
  });
}

function clock(at) {
  const when = at ? new Date(at) : new Date();
  return Number.isNaN(when.getTime()) ? "" : when.toLocaleTimeString(document.documentElement.lang || "de", { hour: "2-digit", minute: "2-digit" });
}

export function chatLog(label) {
  const log = $("chat-log");
  return function add(from, text, at, mine) {
    if (!log) return;
    const item = document.createElement("li");
    item.className = mine ? "chat-mine" : "chat-theirs";
    const who = document.createElement("span");
    who.className = "chat-who";
    who.textContent = `${label(from)} (${clock(at)}): `;
    item.append(who);
    withLinks(item, String(text || ""), !mine && from !== "citizen");
    log.append(item);
    item.scrollIntoView({ block: "nearest" });
  };
}

export function wireChat(client, add, text) {
  const form = $("chat-form");
  const input = $("chat-text");
  if (!form || !input) return;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = input.value.trim();
    if (!value) return;
    if (!client.isOpen()) {
      add("server", text.chat_failed, null, false);
      return;
    }
    client.sendChat(value);
    add("self", value.slice(0, 2000), null, true);
    input.value = "";
  });
}

async function detailOf(response, fallback) {
  try {
    const body = await response.json();
    return body.detail || fallback;
  } catch (e) {
    return fallback;
  }
}

export function wireUpload(config) {
  const form = $("upload-form");
  const input = $("upload-file");
  const status = $("upload-status");
  const progress = $("upload-progress");
  if (!form || !input || !status) return;
  const T = config.text;
  const tell = (message, bad) => {
    status.textContent = message;
    status.className = bad ? "field-error" : "";
    if (bad) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const file = input.files && input.files[0];
    if (!file) return tell(T.upload_choose, true);
    if (file.size > config.maxBytes) return tell(fill(T.upload_too_large, { mb: config.maxMb }), true);
    const request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.setRequestHeader("Accept", "application/json");
    request.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) progress.value = Math.round((e.loaded / e.total) * 100);
    });
    request.addEventListener("loadend", () => {
      progress.hidden = true;
      let body = {};
      try { body = JSON.parse(request.responseText || "{}"); } catch (e) { body = {}; }
      if (request.status === 201) {
        tell(fill(T.upload_sent, { name: body.name || file.name }), false);
        const item = document.createElement("li");
        item.textContent = body.name || file.name;
        $("upload-list").append(item);
        form.reset();
      } else {
        tell(body.detail || T.upload_failed, true);
      }
    });
    progress.value = 0;
    progress.hidden = false;
    tell(T.upload_sending, false);
    request.send(new FormData(form));
  });
}

async function post(form, submitter) {
  const data = new FormData(form);
  if (submitter && submitter.name) data.set(submitter.name, submitter.value);
  return fetch(form.action, { method: "POST", body: data, headers: { Accept: "application/json" }, credentials: "same-origin" });
}

export function wireEnd(onEnded) {
  const form = $("end-form");
  if (!form) return;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const response = await post(form);
      // {"state": "ended"}, or "left": the citizen was (again) waiting and only left the queue
      if (response.ok) return onEnded((await response.json().catch(() => ({}))).state);
    } catch (e) { /* the plain form below */ }
    form.submit();
  });
}

export function wireRating(text) {
  const form = $("rating-form");
  if (!form) return;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const status = $("rating-status");
    let response;
    try {
      response = await post(form, event.submitter);
    } catch (e) {
      status.textContent = text.rating_failed;
      return;
    }
    if (!response.ok && response.status !== 409) {
      status.textContent = await detailOf(response, text.rating_failed);
      return;
    }
    const thanks = document.createElement("p");
    thanks.className = "notice notice-ok";
    thanks.tabIndex = -1;
    thanks.textContent = response.ok ? text.rating_thanks : await detailOf(response, text.rating_thanks);
    $("rating-box").replaceChildren(thanks);
    thanks.focus(); // the button pressed is gone: keep the keyboard where the answer is
  });
}
