// Camera and microphone: open them (falling back to the microphone alone), measure the level,
// list the devices, and name the problem when it fails so the page can say what to do.

// The page's texts have one explanation per kind of failure (page_view.TEXTS "device_*").
export function problemOf(error) {
  const name = (error && error.name) || "";
  if (["NotAllowedError", "PermissionDeniedError", "SecurityError"].includes(name)) return "device_blocked";
  if (["NotFoundError", "DevicesNotFoundError", "OverconstrainedError"].includes(name)) return "device_missing";
  if (["NotReadableError", "TrackStartError", "AbortError"].includes(name)) return "device_busy";
  return "device_failed";
}

export function supported() {
  return Boolean(navigator.mediaDevices && navigator.mediaDevices.getUserMedia && window.RTCPeerConnection);
}

// {stream, problem, audioOnly}: camera and microphone if possible, else the microphone alone
// (problem says why the camera failed), else no stream and the problem.
export async function openMedia({ cameraId = "", micId = "", video = true } = {}) {
  if (!supported()) return { stream: null, problem: "device_unsupported", audioOnly: false };
  const audio = micId ? { deviceId: { exact: micId } } : true;
  let videoError = null;
  if (video) {
    const wanted = cameraId ? { deviceId: { exact: cameraId } } : { width: { ideal: 640 }, height: { ideal: 480 } };
    try {
      return { stream: await navigator.mediaDevices.getUserMedia({ audio, video: wanted }), problem: null, audioOnly: false };
    } catch (e) {
      videoError = e;
    }
  }
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio });
    return { stream, problem: videoError ? problemOf(videoError) : null, audioOnly: true };
  } catch (e) {
    return { stream: null, problem: problemOf(videoError || e), audioOnly: false };
  }
}

// The cameras and microphones the browser shows (names only once access was allowed).
export async function listDevices() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.enumerateDevices) return { cameras: [], mics: [] };
  const all = await navigator.mediaDevices.enumerateDevices().catch(() => []);
  return {
    cameras: all.filter((d) => d.kind === "videoinput"),
    mics: all.filter((d) => d.kind === "audioinput"),
  };
}

export function fillSelect(select, devices, current, label) {
  const options = devices.map((d, i) => {
    const option = document.createElement("option");
    option.value = d.deviceId;
    option.textContent = d.label || label.replace("{n}", String(i + 1));
    option.selected = d.deviceId === current;
    return option;
  });
  select.replaceChildren(...options);
  select.disabled = options.length < 2;
}

export function deviceOf(stream, kind) {
  const track = stream && stream.getTracks().find((t) => t.kind === kind);
  return track && track.getSettings ? track.getSettings().deviceId || "" : "";
}

// A level meter: the microphone's loudness ten times a second, 0 to 100.
export class LevelMeter {
  constructor(meter) {
    this.meter = meter;
    this.context = null;
    this.timer = null;
    this.resume = () => this.context && this.context.resume().catch(() => {});
  }

  attach(stream) {
    this.stop();
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!this.meter || !Context || !stream || !stream.getAudioTracks().length) return;
    this.context = new Context();
    // Without a click first some browsers start the context suspended.
    document.addEventListener("pointerdown", this.resume, { once: true });
    document.addEventListener("keydown", this.resume, { once: true });
    const analyser = this.context.createAnalyser();
    analyser.fftSize = 512;
    this.context.createMediaStreamSource(stream).connect(analyser);
    const samples = new Uint8Array(analyser.fftSize);
    this.timer = setInterval(() => {
      analyser.getByteTimeDomainData(samples);
      let sum = 0;
      for (const s of samples) sum += ((s - 128) / 128) ** 2;
      const level = Math.min(100, Math.round(Math.sqrt(sum / samples.length) * 400));
      this.meter.value = level;
      this.meter.textContent = String(level);
    }, 100);
  }

  stop() {
    clearInterval(this.timer);
    if (this.context) this.context.close().catch(() => {});
    this.context = null;
  }
}
