/* The board's voice: calls play strictly one after another, in call order, never overlapping. */
(function () {
  "use strict";
  var MAX_CLIP_S = 60;

  function Announcer(onBlocked) {
    this.queue = [];
    this.playing = null;
    this.log = [];          // [{number, kind: "start"|"end"|"error"|"text", at}]: for the hall's support and tests
    this.onBlocked = onBlocked || function () {};
  }

  Announcer.prototype.enqueue = function (call) {
    this.queue.push(call);
    this.pump();
  };

  Announcer.prototype.note = function (call, kind) {
    this.log.push({ number: call.number, kind: kind, url: call.audio_url || null });
  };

  Announcer.prototype.pump = function () {
    if (this.playing || !this.queue.length) return;
    var call = this.queue.shift(), self = this, finished = false, watchdog = null;
    this.playing = call;
    function done(kind) {
      if (finished) return;
      finished = true;
      clearTimeout(watchdog);
      self.note(call, kind);
      self.playing = null;
      self.pump();
    }
    if (!call.audio_url) {
      this.note(call, "text");   // no recording: the board shows the text only
      this.playing = null;
      this.pump();
      return;
    }
    var audio = new Audio(call.audio_url);
    audio.preload = "auto";
    audio.addEventListener("ended", function () { done("end"); });
    audio.addEventListener("error", function () { done("error"); });
    // a stalled stream must not silence every later call
    watchdog = setTimeout(function () { audio.pause(); done("error"); }, MAX_CLIP_S * 1000);
    this.note(call, "start");
    var started = audio.play();
    if (started && started.catch) {
      started.catch(function (err) {
        if (finished) return;
        if (err && err.name === "NotAllowedError") {
          // the browser wants a tap before sound: keep this call first in line and ask for one
          finished = true;
          clearTimeout(watchdog);
          self.log.pop();
          self.playing = null;
          self.queue.unshift(call);
          self.onBlocked();
        } else {
          done("error");
        }
      });
    }
  };

  window.OWAnnouncer = Announcer;
})();
