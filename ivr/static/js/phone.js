/* The browser softphone (/phone): keypad, screen and loudspeaker of a call the server runs.
 *
 * The server runs the call through the local phone and answers each request with what happened
 * up to the next input point (JSON: events, and what the call is waiting for). This page plays
 * the prompts, collects keys the way a phone's <Gather> does (numDigits, finishOnKey, the
 * timeout after the prompts and after each key) and sends them, or silence when time runs out.
 * A key pressed while the hotline speaks interrupts it (barge-in); keys pressed while a request
 * is on its way are kept for the next input point.
 */
(function () {
  "use strict";

  var main = document.getElementById("main");
  var dialUrl = main.getAttribute("data-dial-url");
  var callUrlTemplate = main.getAttribute("data-call-url");

  var el = {
    status: document.getElementById("status"),
    elapsed: document.getElementById("elapsed"),
    language: document.getElementById("call-language"),
    entry: document.getElementById("entry"),
    countdown: document.getElementById("countdown"),
    call: document.getElementById("call"),
    hangup: document.getElementById("hangup"),
    timeoutNow: document.getElementById("timeout-now"),
    transcript: document.getElementById("transcript"),
    empty: document.getElementById("transcript-empty"),
    sound: document.getElementById("opt-sound"),
    wait: document.getElementById("opt-wait"),
    details: document.getElementById("opt-details"),
    keys: Array.prototype.slice.call(document.querySelectorAll(".keypad .key")),
    sayForm: document.getElementById("say-form"),
    sayText: document.getElementById("say-text"),
    sayConfidence: document.getElementById("say-confidence"),
    saySend: document.getElementById("say-send")
  };

  var LANGUAGES = { "zh-CN": "中文 (Mandarin)", "en-US": "English" };
  var WHO = { hotline: "Hotline", caller: "You", system: "Phone", error: "Error" };

  var call = null;       // the call in progress: {id, url, startedAt}
  var seen = 0;          // events shown so far
  var waiting = null;    // what the call waits for (from the server)
  var busy = false;      // a request is on its way
  var buffer = "";       // keys typed at this input point
  var typeAhead = [];    // keys typed while a request was on its way
  var queue = [];        // prompts still to play, in order
  var playing = null;    // the audio element playing now
  var promptTimer = null;   // sound off: the prompts "play" for their length
  var countdownTimer = null;
  var clockTimer = null;
  var promptsDone = false;

  function callUrl(suffix) {
    return callUrlTemplate.replace("CALL_ID", encodeURIComponent(call.id)) + (suffix || "");
  }

  function say(message) {
    el.status.textContent = message;
  }

  function formatTime(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var m = Math.floor(seconds / 60), s = seconds % 60;
    return m + ":" + (s < 10 ? "0" : "") + s;
  }

  function setInCall(inCall) {
    el.call.disabled = inCall;
    el.hangup.disabled = !inCall;
    el.timeoutNow.disabled = !inCall;
    el.keys.forEach(function (button) { button.disabled = !inCall; });
    [el.sayText, el.sayConfidence, el.saySend].forEach(function (input) { input.disabled = !inCall; });
  }

  function showEntry() {
    el.entry.textContent = buffer + (typeAhead.length ? typeAhead.join("") : "");
  }

  // -- talking to the server ------------------------------------------------------------------
  function request(method, url, body) {
    var options = { method: method, headers: { "Accept": "application/json" }, credentials: "same-origin" };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var error = new Error(data.error || ("The server answered " + response.status + "."));
          error.status = response.status;
          throw error;
        }
        return data;
      });
    });
  }

  function dial() {
    if (call || busy) { return; }
    resetScreen();
    busy = true;
    setInCall(true);
    el.call.disabled = true;
    say("Calling 12333…");
    request("POST", dialUrl, {}).then(function (data) {
      call = { id: data.id, startedAt: Date.now() };
      clockTimer = window.setInterval(tick, 1000);
      busy = false;
      el.keys[0].focus();
      show(data);
    }).catch(function (error) {
      busy = false;
      setInCall(false);
      say("The call could not be placed: " + error.message);
      el.call.focus();
    });
  }

  // What the caller gives the waiting input (keys or speech): posted, then the call shown again.
  function post(path, body, status, failed, sent) {
    stopCountdown();
    stopPrompts();
    busy = true;
    buffer = "";
    waiting = null;
    showEntry();
    say(status);
    request("POST", callUrl(path), body).then(function (data) {
      busy = false;
      if (sent) { sent(); }
      show(data);
    }).catch(function (error) {
      busy = false;
      if (error.status === 404) { return ended("The call is no longer there: " + error.message); }
      say(failed(error.message));
      // Ask again what the call waits for, so the next input goes to the right place.
      request("GET", callUrl("?since=" + seen)).then(show).catch(function () {});
    });
  }

  function send(keys) {
    if (!call || busy) { return; }
    post("/keys", { keys: keys }, keys === "_" ? "Silence…" : "Sending your keys…",
         function (why) { return "Your keys did not get through: " + why + " Press them again."; });
  }

  // The "Say…" box: what the caller says, sent as SpeechResult/Confidence to the waiting Gather.
  function speak(text) {
    if (!call || busy || !text) { return; }
    var confidence = parseFloat(el.sayConfidence.value);
    if (isNaN(confidence) || confidence < 0 || confidence > 1) { confidence = 0.9; }
    post("/say", { text: text, confidence: confidence }, "Saying “" + text + "”…",
         function (why) { return "What you said did not get through: " + why; },
         function () { el.sayText.value = ""; });
  }

  function hangup() {
    if (!call) { return; }
    var hanging = call;
    stopCountdown();
    stopPrompts();
    say("Hanging up…");
    busy = true;
    request("POST", callUrl("/hangup"), {}).then(function (data) {
      busy = false;
      if (call === hanging) { show(data); }
    }).catch(function (error) {
      busy = false;
      ended("Hung up. (" + error.message + ")");
    });
  }

  // -- what happened --------------------------------------------------------------------------
  function show(data) {
    if (!call || data.id !== call.id) { return; }
    var heard = [];
    var speaking = 0;
    data.events.forEach(function (event) {
      if (event.n < seen) { return; }
      var item = addEvent(event);
      if (item.audio) { heard.push(item.audio); }
      if (event.who === "hotline") { speaking += event.duration || 0; }
    });
    seen = Math.max(seen, data.count);
    if (data.languages && data.languages.length) {
      el.language.textContent = data.languages.map(function (code) { return LANGUAGES[code] || code; }).join(" / ");
      if (data.languages.length === 1) { el.language.setAttribute("lang", data.languages[0]); }
      else { el.language.removeAttribute("lang"); }
    }
    if (data.ended) {
      var how = data.ended_by === "caller" ? "you hung up" : "the hotline ended it";
      ended("Call ended: " + how + " after " + formatTime(data.duration) + ".", heard);
      return;
    }
    waiting = data.waiting;
    buffer = "";
    playPrompts(heard, speaking);
    // Keys typed while the request was on its way go to this input point.
    var pending = typeAhead;
    typeAhead = [];
    showEntry();
    pending.forEach(press);
  }

  function addEvent(event) {
    el.empty.hidden = true;
    var li = document.createElement("li");
    li.className = "event " + event.who + (event.who === "system" ? " technical" : "");
    li.setAttribute("data-n", event.n);
    li.setAttribute("data-verb", event.verb);

    var time = document.createElement("span");
    time.className = "event-time";
    time.textContent = formatTime(event.at);
    li.appendChild(time);

    var who = document.createElement("span");
    who.className = "event-who";
    who.textContent = event.who === "system" ? event.label : WHO[event.who];
    li.appendChild(who);

    var text = document.createElement("span");
    text.className = "event-text";
    text.textContent = event.text || (event.verb === "Play" ? "(a recording)" : "");
    if (event.lang) { text.setAttribute("lang", event.lang); }
    li.appendChild(text);

    var item = { li: li, audio: null };
    if (event.audio) {
      var audio = document.createElement("audio");
      audio.preload = "auto";
      audio.src = event.audio;
      audio.className = "event-audio";
      li.appendChild(audio);
      var again = document.createElement("button");
      again.type = "button";
      again.className = "replay";
      again.textContent = "Play again";
      again.setAttribute("aria-label", "Play again: " + (event.text || "").slice(0, 80));
      again.addEventListener("click", function () {
        stopPrompts();
        audio.currentTime = 0;
        audio.play().catch(function () {});
      });
      li.appendChild(again);
      item.audio = audio;
    }
    el.transcript.appendChild(li);
    li.scrollIntoView({ block: "nearest" });
    return item;
  }

  function ended(message, heard) {
    stopCountdown();
    window.clearInterval(clockTimer);
    waiting = null;
    buffer = "";
    typeAhead = [];
    showEntry();
    call = null;
    setInCall(false);
    el.countdown.textContent = "";
    say(message);
    // Let the last words (a balance, a goodbye) play out.
    if (heard && heard.length && el.sound.checked) { queue = heard.slice(); playNext(); }
    el.call.focus();
  }

  function resetScreen() {
    seen = 0;
    waiting = null;
    buffer = "";
    typeAhead = [];
    stopPrompts();
    el.transcript.textContent = "";
    el.empty.hidden = false;
    el.elapsed.textContent = "0:00";
    el.language.textContent = "—";
    el.countdown.textContent = "";
    showEntry();
  }

  function tick() {
    if (call) { el.elapsed.textContent = formatTime((Date.now() - call.startedAt) / 1000); }
  }

  // -- prompts --------------------------------------------------------------------------------
  function playPrompts(audios, speaking) {
    promptsDone = false;
    if (el.sound.checked && audios.length) {
      queue = audios.slice();
      say("The hotline is speaking… press a key to answer at any time.");
      playNext();
    } else if (speaking > 0 && !el.sound.checked) {
      // Sound off: the prompts take as long as they would to say.
      say("The hotline is speaking (sound off)… press a key to answer at any time.");
      promptTimer = window.setTimeout(finishPrompts, speaking * 1000);
    } else {
      finishPrompts();
    }
  }

  function playNext() {
    playing = queue.shift() || null;
    if (!playing) { finishPrompts(); return; }
    var current = playing;
    var next = function () { if (playing === current) { playNext(); } };
    current.onended = next;
    current.onerror = next;
    current.currentTime = 0;
    var started = current.play();
    if (started && started.catch) { started.catch(next); }
  }

  function stopPrompts() {
    window.clearTimeout(promptTimer);
    promptTimer = null;
    queue = [];
    if (playing) {
      playing.onended = playing.onerror = null;
      playing.pause();
      playing = null;
    }
  }

  function finishPrompts() {
    playing = null;
    if (promptsDone || !call || !waiting) { return; }
    promptsDone = true;
    startCountdown();
  }

  // -- answering ------------------------------------------------------------------------------
  function yourTurn() {
    if (!waiting) { return ""; }
    if (waiting.kind === "record") {
      return "Leave a message after the beep: press any key to finish it, or stay silent.";
    }
    if (waiting.finishOnKey && !waiting.numDigits) {
      return "Your turn: type the number, then " + waiting.finishOnKey + ".";
    }
    return "Your turn: press a key.";
  }

  function startCountdown() {
    stopCountdown();
    if (!waiting) { return; }
    say(yourTurn());
    if (el.wait.checked) {
      el.countdown.textContent = "No time limit: take your time.";
      return;
    }
    var left = waiting.timeout;
    var show = function () {
      el.countdown.textContent = left > 0 ? "Time left to press: " + left + " s" : "";
    };
    show();
    countdownTimer = window.setInterval(function () {
      left -= 1;
      show();
      if (left <= 0) { timeOut(); }
    }, 1000);
  }

  function stopCountdown() {
    window.clearInterval(countdownTimer);
    countdownTimer = null;
    el.countdown.textContent = "";
  }

  function timeOut() {
    stopCountdown();
    if (call && waiting && !busy) { send(buffer || "_"); }
  }

  function press(key) {
    if (!call) {
      if (busy) { typeAhead.push(key); showEntry(); return; }  // dialling: kept for the first menu
      say("Press Call first, then the keys.");
      return;
    }
    flash(key);
    if (busy || !waiting) {
      typeAhead.push(key);
      showEntry();
      return;
    }
    // Barge-in: a key stops the prompts.
    stopPrompts();
    promptsDone = true;
    buffer += key;
    showEntry();
    if (waiting.kind === "record") {
      if ((waiting.finishOnKey || "").indexOf(key) !== -1) { send(buffer); return; }
    } else if (waiting.finishOnKey && key === waiting.finishOnKey) {
      send(buffer);
      return;
    } else if (waiting.numDigits && buffer.length >= waiting.numDigits) {
      send(buffer);
      return;
    }
    startCountdown();  // the timeout starts again after each key
  }

  function flash(key) {
    el.keys.forEach(function (button) {
      if (button.getAttribute("data-key") === key) {
        button.classList.add("pressed");
        window.setTimeout(function () { button.classList.remove("pressed"); }, 150);
      }
    });
  }

  // -- wiring ---------------------------------------------------------------------------------
  el.call.addEventListener("click", dial);
  el.hangup.addEventListener("click", hangup);
  el.timeoutNow.addEventListener("click", timeOut);
  el.keys.forEach(function (button) {
    button.addEventListener("click", function () { press(button.getAttribute("data-key")); });
  });
  el.sayForm.addEventListener("submit", function (event) {
    event.preventDefault();
    speak(el.sayText.value.trim());
  });
  el.details.addEventListener("change", function () {
    el.transcript.classList.toggle("show-technical", el.details.checked);
  });
  el.wait.addEventListener("change", function () {
    if (call && waiting && promptsDone && !busy) { startCountdown(); }
  });
  el.sound.addEventListener("change", function () {
    if (!el.sound.checked && playing) { stopPrompts(); finishPrompts(); }
  });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) { return; }
    var target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName) &&
        target.type !== "checkbox")) { return; }
    if (/^[0-9*#]$/.test(event.key)) {
      event.preventDefault();
      press(event.key);
    } else if (event.key === "Escape" && call) {
      event.preventDefault();
      hangup();
    }
  });

  window.addEventListener("pagehide", function () {
    if (call && navigator.sendBeacon) { navigator.sendBeacon(callUrl("/hangup")); }
  });
})();
