// The citizen's video page (and the guest's): opening it is the knock. The WebSocket connects at
// once; meanwhile the waiting room checks camera and microphone and shows the own place in the
// queue. When staff admit, the call starts here; when it ends, the rating. `<main
// data-call-state>` says where the page is (waiting, admitted, connected, ended; API.md).
// Every text comes from the page (#call-config), in the page's language.
import { CallClient } from "./rtc.js";
import { openMedia, listDevices, fillSelect, deviceOf, LevelMeter } from "./devices.js";
import { fill, chatLog, wireChat, wireUpload, wireEnd, wireRating } from "./callui.js";

document.documentElement.classList.add("js");
const $ = (id) => document.getElementById(id);
const config = JSON.parse($("call-config").textContent);
const T = config.text;
const main = document.querySelector("main");
const guest = config.role === "guest";
const page = { client: null, stream: null, audioOnly: false, server: config.state, note: "", lines: [], over: false, fallbacks: new Set() };
const meter = new LevelMeter($("mic-level"));
const MEDIA_WAIT_MS = 15000;

function label(peer) {
  if (peer === "self") return T.you;
  if (peer === "clerk" || peer === "citizen" || peer === "server") return T[peer];
  const n = /^guest-(\d+)$/.exec(peer || "");
  return n ? fill(T.guest, { n: n[1] }) : String(peer || "");
}

// --- the live status: the own place and estimate, or the call's state ----------------------

function statusLines(msg) {
  if (msg.state === "admitted" && page.client && page.client.anyConnected()) return [T.connected];
  if (msg.state !== "waiting") return [T[msg.state] || ""];
  if (msg.position === null || msg.position === undefined) return [T.place_unknown];
  const ahead = msg.position - 1;
  const lines = [fill(T.place, { position: msg.position })];
  lines.push(ahead === 0 ? T.ahead_none : ahead === 1 ? T.ahead_one : fill(T.ahead_many, { n: ahead }));
  if (msg.late) lines.push(T.late);
  const m = msg.estimate_minutes;
  if (m !== null && m !== undefined) lines.push(m === 0 ? T.wait_soon : m === 1 ? T.wait_one : fill(T.wait_many, { minutes: m }));
  return lines;
}

// The region changes only when its words do, so the 15-second refresh is not read out again.
function say(lines) {
  if (lines) page.lines = lines;
  const all = page.note ? [page.note, ...page.lines] : page.lines;
  const region = $("call-status");
  const words = all.join("\n");
  if (region.dataset.said === words) return;
  region.dataset.said = words;
  // Lines apart by a line break too, so their text never runs together ("…: 1Vor Ihnen").
  const nodes = all.flatMap((line) => ["\n", Object.assign(document.createElement("p"), { textContent: line })]);
  region.replaceChildren(...nodes, "\n");
}

function setState(state) {
  main.dataset.callState = state === "admitted" && page.client && page.client.anyConnected() ? "connected" : state;
}

// Content that disappears must not take the keyboard focus with it: `active` is what had the
// focus before the change (the browser may already have let go of it).
function keepFocus(target, active) {
  if (target && active && active !== document.body && active.offsetParent === null) target.focus();
}

function onState(received) {
  if (page.over) return;
  // A guest is in the room whatever the citizen's state, until the call ends.
  const msg = guest && received.state !== "ended" ? { ...received, state: "admitted" } : received;
  const before = page.server;
  const active = document.activeElement;
  page.server = msg.state;
  page.note = "";
  if (msg.state === "ended") return finish(T.ended);
  if (msg.state === "waiting" && before === "admitted") {
    page.client.dropPeers();
    page.note = T.returned;
  }
  setState(msg.state);
  say(statusLines(msg));
  if (msg.state === "admitted" && before !== "admitted" && !guest) admitted();
  if (msg.state === "waiting") keepFocus($("check-title"), active);
}

function admitted() {
  $("self-view").srcObject = page.stream;
  if (page.audioOnly) fallback("audio");
  requestAnimationFrame(() => $("call-title").focus()); // once, on admission (then stays put)
}

// The end of the page's call: hung up, ended by staff, taken over by another tab or refused.
function finish(text, closed) {
  const active = document.activeElement;
  page.over = true;
  page.note = "";
  if (page.client) page.client.hangUp();
  if (page.stream) page.stream.getTracks().forEach((t) => t.stop());
  meter.stop();
  document.querySelectorAll("video").forEach((v) => { v.srcObject = null; });
  if (closed) main.classList.add("call-closed"); // no rating in a tab that lost the call
  setState("ended");
  say([text]);
  keepFocus($("ended-title"), active);
}

function onClose(code, reason, final) {
  if (page.over) return;
  if (code === 4409) return finish(T.replaced, true);
  if (code === 4410) return finish(T.ended);
  if (code === 4403) return finish(T.refused, true);
  if (!final) {
    page.note = T.offline;
    say();
  }
}

// --- video tiles ------------------------------------------------------------------------

function tile(peer) {
  let video = document.querySelector(`video[data-peer="${peer}"]`);
  if (video) return video;
  const figure = document.createElement("figure");
  figure.className = "tile tile-remote";
  figure.dataset.tile = peer;
  figure.dataset.added = "1";
  video = Object.assign(document.createElement("video"), { autoplay: true, playsInline: true });
  video.dataset.remote = "";
  video.dataset.peer = peer;
  const caption = document.createElement("figcaption");
  caption.textContent = label(peer);
  figure.append(video, caption);
  $("tiles").insertBefore(figure, document.querySelector(".tile-self"));
  return video;
}

function onRemote(peer, stream) {
  const video = tile(peer);
  if (!stream) {
    video.srcObject = null;
    const figure = video.closest("figure");
    if (figure && figure.dataset.added) figure.remove();
    return;
  }
  if (video.srcObject === stream) return; // its second track: already playing
  video.srcObject = stream;
  video.play().catch((e) => {
    // Only a browser's autoplay rule needs a click; an interrupted start (new stream) does not.
    if (e && e.name === "NotAllowedError") $("play-blocked").hidden = false;
  });
}

function onPeerState(peer, state) {
  if (page.over) return;
  if (state === "connected") {
    $("call-problem").hidden = true;
    say([T.connected]);
  } else if (state === "failed") {
    $("call-problem-text").textContent = page.audioOnly ? T.audio_failed : T.ice_failed;
    $("call-problem").hidden = false;
  }
}

// --- camera and microphone ------------------------------------------------------------------

function setStream(stream, audioOnly) {
  page.stream = stream;
  page.audioOnly = audioOnly;
  for (const id of ["preview", "self-view"]) if ($(id)) $(id).srcObject = stream;
  meter.attach(stream);
  if (page.client) page.client.setLocalStream(stream);
  const camera = $("btn-camera");
  if (camera) camera.disabled = audioOnly || !stream;
}

function deviceStatus(text) {
  if ($("device-status")) $("device-status").textContent = text;
}

async function showDevices() {
  const { cameras, mics } = await listDevices();
  if ($("camera-select")) fillSelect($("camera-select"), cameras, deviceOf(page.stream, "video"), T.camera_n);
  if ($("mic-select")) fillSelect($("mic-select"), mics, deviceOf(page.stream, "audio"), T.microphone_n);
}

async function startMedia(wanted) {
  const result = await openMedia(wanted || {});
  if (page.over) {
    if (result.stream) result.stream.getTracks().forEach((t) => t.stop());
    return;
  }
  if (page.stream && page.stream !== result.stream) page.stream.getTracks().forEach((t) => t.stop());
  setStream(result.stream, result.audioOnly);
  const problem = result.problem ? T[result.problem] : "";
  deviceStatus(!problem ? T.devices_ok : result.stream ? `${problem} ${T.camera_only_failed}` : problem);
  if ($("device-retry")) $("device-retry").hidden = !problem;
  showAudioOnly(Boolean(problem) && result.audioOnly); // only when the microphone works
  await showDevices();
}

function showAudioOnly(show) {
  document.querySelectorAll("[data-audio-only]").forEach((b) => {
    if (b.closest("#check")) b.hidden = !show;
  });
}

async function useAudioOnly() {
  let stream = page.stream;
  if (!stream || !stream.getAudioTracks().length) {
    const result = await openMedia({ micId: $("mic-select") ? $("mic-select").value : "", video: false });
    if (!result.stream) return deviceStatus(T[result.problem] || T.device_failed);
    stream = result.stream;
  }
  const audio = new MediaStream(stream.getAudioTracks());
  stream.getVideoTracks().forEach((t) => t.stop());
  setStream(audio, true);
  deviceStatus(T.audio_only_on);
  document.querySelectorAll("[data-audio-only]").forEach((b) => { b.hidden = true; });
  if ($("fallback-audio")) $("fallback-audio").hidden = true;
  fallback("audio");
  // A connection that failed with video gets a fresh try without it.
  if (page.client && page.client.peerNames().some((p) => page.client.pc(p).connectionState === "failed")) page.client.restart();
  $("call-problem-text").textContent = T.audio_only_on;
}

// Recorded once per way; over the WebSocket, or as a plain post when that is gone too.
function fallback(mode) {
  if (guest || page.fallbacks.has(mode)) return;
  page.fallbacks.add(mode);
  if (page.client && page.client.isOpen()) return page.client.fallback(mode);
  const token = document.querySelector("input[name=csrf_token]");
  const data = new FormData();
  data.set("mode", mode);
  if (token) data.set("csrf_token", token.value);
  if (navigator.sendBeacon) navigator.sendBeacon(`${config.base}/ausweichen`, data);
}

// --- buttons ------------------------------------------------------------------------------

function toggle(id, apply) {
  const button = $(id);
  if (!button) return;
  button.addEventListener("click", () => {
    const on = button.getAttribute("aria-pressed") !== "true";
    button.setAttribute("aria-pressed", String(on));
    apply(on);
  });
}

function wireButtons() {
  toggle("btn-mute", (on) => page.client.setMuted(on));
  toggle("btn-camera", (on) => page.client.setCameraOff(on));
  document.querySelectorAll("[data-audio-only]").forEach((b) => b.addEventListener("click", useAudioOnly));
  document.querySelectorAll("[data-phone]").forEach((a) => a.addEventListener("click", () => fallback("phone")));
  const retry = $("device-retry");
  if (retry) retry.addEventListener("click", () => startMedia());
  const reopen = () => startMedia({ cameraId: $("camera-select").value, micId: $("mic-select").value, video: !page.audioOnly });
  for (const id of ["camera-select", "mic-select"]) if ($(id)) $(id).addEventListener("change", reopen);
  $("play-button").addEventListener("click", () => {
    document.querySelectorAll("video[data-remote]").forEach((v) => v.play().catch(() => {}));
    $("play-blocked").hidden = true;
  });
  const leave = $("btn-leave");
  if (leave) leave.addEventListener("click", () => {
    finish(T.left, true);
    $("left").hidden = false;
    $("left-title").focus();
  });
  wireEnd((state) => (state === "left" ? finish(T.left_queue, true) : finish(T.ended)));
  wireRating(T);
  wireUpload(config);
}

function start() {
  say(Array.from($("call-status").querySelectorAll("p"), (p) => p.textContent));
  wireButtons();
  if (config.state === "ended") {
    page.over = true;
    return;
  }
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const add = chatLog(label);
  const client = new CallClient({
    wsUrl: `${scheme}//${location.host}${config.ws}`,
    self: guest ? null : "citizen",
    mediaPending: true, // the mesh starts once the camera question is answered (startMedia)
    onState,
    onRemote,
    onPeerState,
    onChat: (msg) => add(msg.from, msg.text, msg.at, false),
    onReplaced: () => finish(T.replaced, true),
    onClose,
    onOpen: () => { if (page.note === T.offline) { page.note = ""; say(); } },
  });
  page.client = client;
  wireChat(client, add, T);
  client.connect(); // the knock, before the camera question is even answered
  startMedia();
  // Someone who never answers the browser's question still gets into the call (sound and
  // picture of the clerk; their own follow once allowed).
  setTimeout(() => client.mediaReady(), MEDIA_WAIT_MS);
  if (navigator.mediaDevices && navigator.mediaDevices.addEventListener) {
    navigator.mediaDevices.addEventListener("devicechange", () => { if (!page.over) showDevices(); });
  }
}

start();
