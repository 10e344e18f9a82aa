/* global io */
// Switchboard chat client.
//
// Talks to the server through the Socket.IO client served at
// /socket.io/socket.io.js. Events (see CONTRACTS.md):
//   server → client  'user count'    number of users online
//                    'user'          {username, name, currentUsers, connected}
//                    'chat message'  {username, name, message, at}
//                    'chat history'  [{username, name, message, at}, …] on every (re)connection,
//                                    then {before}: the message just before the
//                                    oldest of them (null if there is none)
//                    'error message' {error, code}: something refused, or (code
//                                    "unauthorized") the session ended and the
//                                    server is about to disconnect this socket
//                    'typing'        {username, name}: someone else is writing
//                    'online users'  {users: [{username, name}, …], count}: the
//                                    answer to the page's 'online users', in
//                                    line with the 'user' events
//   client → server  'chat message'  the text; the ack answers {ok} or {error, code}
//                    'online users'  who is online? (when the list is opened)
//                    'typing'        its user is writing (every 2 s at most)
//                    'earlier messages' {username, message, at} of the oldest message
//                                    shown; the ack answers as 'chat history' (the 50
//                                    before it, then {before}) or {error, code}
//
// Everything users typed is put on the page with textContent, never as
// HTML, and names and messages are bidi-isolated (<bdi>): right-to-left
// text or direction controls in one cannot reorder the rest of the line.
// Web addresses in messages become links (http and https only).
//
// Sending: a message is only emitted while connected; otherwise the text
// stays in the box with a note (nothing is queued to go out later). Once
// emitted the box is cleared; if the server refuses it, or the connection
// drops before the server confirms it, the text comes back to the box,
// before anything typed since (several such texts: in the order sent).
'use strict';

(function () {
  const MAX_LENGTH = 1000; // characters, as the server counts them
  const MAX_ITEMS = 200; // list items kept on the page; older ones are dropped
  const NEAR_BOTTOM = 80; // px: closer than this to the end counts as "at the end"

  const form = document.getElementById('send');
  const input = document.getElementById('m');
  const statusLine = document.getElementById('connection');
  const errorLine = document.getElementById('chat-error');
  const me = document.body.dataset.username || '';

  function byId(id) {
    return document.getElementById(id);
  }

  // The connection status, with an optional link (text, href) after it.
  function setConnection(state, text, link) {
    statusLine.dataset.state = state;
    statusLine.textContent = text;
    if (link) {
      const a = document.createElement('a');
      a.href = link.href;
      a.textContent = link.text;
      statusLine.append(' ', a);
    }
  }

  let errorTimer = 0;
  function showError(text) {
    errorLine.textContent = text;
    errorLine.hidden = false;
    clearTimeout(errorTimer);
    errorTimer = setTimeout(() => { errorLine.hidden = true; }, 6000);
  }

  // Hides the error line if it shows text (an error the next connection
  // makes stale).
  function clearError(text) {
    if (!errorLine.hidden && errorLine.textContent === text) {
      errorLine.hidden = true;
      clearTimeout(errorTimer);
    }
  }
  const NOT_CONNECTED = 'Not connected — your message was not sent.';

  function showUserCount(count) {
    delete byId('num-users').dataset.state;
    byId('num-users').textContent = count + ' users online';
  }

  // While away from the server the page cannot know who is online: it says
  // so instead of showing the last count (#num-users is a live region, so
  // this is read out too). The count comes back with the connection: the
  // server sends it on every connect.
  function showUserCountUnknown(why) {
    byId('num-users').dataset.state = 'unknown';
    byId('num-users').textContent = 'Users online: unknown (' + why + ')';
  }

  function isAtBottom(list) {
    return list.scrollHeight - list.scrollTop - list.clientHeight < NEAR_BOTTOM;
  }

  // Jumps at once (a smooth scroll still under way would make the next
  // message look like the reader had scrolled up).
  function scrollToBottom(list) {
    list.scrollTo({ top: list.scrollHeight, behavior: 'instant' });
    clearUnseen();
    showEarlier();
  }

  // Messages that arrived below the view of a reader scrolled up: a button
  // over the end of the list counts them and jumps there; reaching the end
  // any other way hides it too.
  const jump = byId('new-messages');
  let unseen = 0;
  function addUnseen(count) {
    if (count <= 0) {
      return;
    }
    unseen += count;
    jump.textContent = (unseen === 1 ? '1 new message' : unseen + ' new messages') + ' ↓';
    jump.hidden = false;
  }
  function clearUnseen() {
    unseen = 0;
    jump.hidden = true;
  }
  jump.addEventListener('click', () => {
    scrollToBottom(byId('messages'));
    input.focus();
  });
  byId('messages').addEventListener('scroll', () => {
    if (unseen > 0 && isAtBottom(byId('messages'))) {
      clearUnseen();
    }
  }, { passive: true });

  // Earlier messages: a reader at the start of the list can load the 50
  // messages before the oldest one shown (the server's 'earlier messages'
  // answers as 'chat history' does), as long as there are some; the list
  // stays where it was, the new ones above.
  const earlier = byId('earlier');
  const NEAR_TOP = 80; // px
  let moreEarlier = false; // messages exist before the oldest shown
  function oldestShown() {
    return byId('messages').querySelector('li.message');
  }
  function showEarlier() {
    const list = byId('messages');
    earlier.hidden = !(moreEarlier && list.scrollTop < NEAR_TOP && oldestShown() !== null);
  }
  byId('messages').addEventListener('scroll', showEarlier, { passive: true });
  earlier.addEventListener('click', () => {
    const oldest = oldestShown();
    if (earlier.disabled || oldest === null) {
      return;
    }
    earlier.disabled = true;
    earlier.textContent = 'Loading…';
    askEarlier(oldest, () => {
      earlier.disabled = false;
      earlier.textContent = '↑ Earlier messages';
    }, (list, meta) => {
      const messages = byId('messages');
      const items = notShown(list).map(messageItem);
      const height = messages.scrollHeight;
      messages.prepend(...items);
      messages.scrollTop += messages.scrollHeight - height; // what was read stays in place
      moreEarlier = Boolean(meta && meta.before);
      showEarlier();
    });
  });

  // While the page is hidden (another tab is in front, the window is
  // minimised), its title counts the messages others post: "(3) Chat — …".
  const title = document.title;
  let unread = 0;
  function countUnread(count) {
    if (count > 0 && document.visibilityState === 'hidden') {
      unread += count;
      document.title = '(' + unread + ') ' + title;
    }
  }
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && unread > 0) {
      unread = 0;
      document.title = title;
    }
  });

  // Keeps the list to MAX_ITEMS items, dropping the oldest; called while
  // the reader is at the end (not while they read older messages). What is
  // dropped can be loaded again (see 'earlier messages').
  function trimMessages(list) {
    while (list.children.length > MAX_ITEMS) {
      list.firstElementChild.remove();
      moreEarlier = true;
    }
    showEarlier();
  }

  // Adds items at the end of #messages; keeps the newest in view unless the
  // reader scrolled up to read older ones (own messages always scroll).
  function appendToMessages(...items) {
    const list = byId('messages');
    const follow = isAtBottom(list) || items.some((li) => li.classList.contains('mine'));
    list.append(...items);
    if (follow) {
      trimMessages(list);
      scrollToBottom(list);
    } else {
      addUnseen(items.filter((li) => li.classList.contains('message')).length);
    }
  }

  function displayName(data) {
    return String(data.name || data.username || 'Someone');
  }

  function timeLabel(at) {
    const when = at ? new Date(at) : new Date();
    if (isNaN(when.getTime())) {
      return '';
    }
    return when.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  }

  // Text in its own bidi isolate: its direction (found from its first
  // strong character) and any direction controls in it stay inside.
  function isolated(text, className) {
    const el = document.createElement('bdi');
    el.className = className;
    el.textContent = text;
    return el;
  }

  // Who wrote or did something: the display name and, when that is not the
  // username (a GitHub name), "@username" after it. A display name is free
  // text that anyone can give themselves, another user's name included; the
  // username is unique.
  function author(data) {
    const name = displayName(data);
    const el = isolated(name, 'author');
    const username = data.username ? String(data.username) : '';
    if (username && username !== name) {
      el.append(' ', isolated('@' + username, 'handle'));
    }
    return el;
  }

  // A message's text, its web addresses (http and https, each one checked
  // by the URL parser) made links; the rest stays text. Punctuation that
  // ends a sentence after an address is not part of it, nor a closing
  // bracket it did not open ("(see https://example.com/a_(b))."). A link
  // opens in a new tab and tells the other site nothing of this page.
  const ADDRESS = /\bhttps?:\/\/[^\s<>"]+/gi;
  function trimAddress(s) {
    const count = (ch) => s.split(ch).length - 1;
    for (;;) {
      const c = s[s.length - 1];
      if ('.,;:!?\'"'.includes(c) || (c === ')' && count('(') < count(')')) ||
          (c === ']' && count('[') < count(']')) || (c === '}' && count('{') < count('}'))) {
        s = s.slice(0, -1);
      } else {
        return s;
      }
    }
  }
  function messageText(text) {
    const el = isolated('', 'text');
    let done = 0;
    for (const match of text.matchAll(ADDRESS)) {
      const address = trimAddress(match[0]);
      let url;
      try {
        url = new URL(address);
      } catch {
        continue;
      }
      if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname) {
        continue;
      }
      const a = document.createElement('a');
      a.href = url.href;
      a.textContent = address;
      a.target = '_blank';
      a.rel = 'noopener noreferrer nofollow ugc';
      el.append(text.slice(done, match.index), a);
      done = match.index + address.length;
    }
    el.append(text.slice(done));
    return el;
  }

  // What identifies a message, to recognise it when a history repeats it.
  function messageKey(data) {
    return JSON.stringify([data.at, data.username, data.message]);
  }

  // "NAME: message", built from text nodes only.
  // Whether a message names this user as "@username" (not inside an
  // address such as "someone@username.example").
  const mentionPattern = me
    ? new RegExp('(^|[^\\p{L}\\p{N}_.@/-])@' + me.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '(?![\\p{L}\\p{N}_-])', 'iu')
    : null;

  function messageItem(data) {
    const li = document.createElement('li');
    li.className = 'message';
    if (me && data.username === me) {
      li.classList.add('mine');
    } else if (mentionPattern && mentionPattern.test(String(data.message))) {
      li.classList.add('mention');
    }
    li.dataset.key = messageKey(data);
    li.append(author(data), ': ', messageText(String(data.message)));
    const time = timeLabel(data.at);
    if (time) {
      li.dataset.time = time; // shown by CSS, not part of the text
    }
    return li;
  }

  // "NAME has joined the chat." and other announcements.
  function announcementItem(who, text) {
    const li = document.createElement('li');
    li.className = 'announcement';
    li.append(author(who), text);
    return li;
  }

  // Stands where messages are missing from the list (see 'chat history').
  // Its button loads them: the messages before the first one after it,
  // 50 at a time, until they reach the last one shown before it.
  function missedItem() {
    const li = document.createElement('li');
    li.className = 'missed';
    const text = document.createElement('span');
    text.textContent = 'Some messages were missed while you were away.';
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'link-button';
    button.textContent = 'Show them';
    button.addEventListener('click', () => { fillGap(li, button); });
    li.append(text, ' ', button);
    return li;
  }

  // What the server knows a shown message by (see 'earlier messages').
  function keyOfItem(li) {
    const [at, username, message] = JSON.parse(li.dataset.key);
    return { at, username, message };
  }

  // The messages of a list answer that the page does not show yet.
  function notShown(list) {
    const shown = new Set(Array.from(byId('messages').querySelectorAll('li.message'), (li) => li.dataset.key));
    return list.filter((data) => !shown.has(messageKey(data)));
  }

  // Asks for the messages before the one shown as li; calls settled() once
  // the question is over, then done(list, meta) with an answer, or says
  // why there is none.
  function askEarlier(li, settled, done) {
    if (!socket.connected) {
      settled();
      showError('Not connected — earlier messages come back with the connection.');
      return;
    }
    socket.timeout(10000).emit('earlier messages', keyOfItem(li), (err, list, meta) => {
      settled();
      if (err || !Array.isArray(list)) {
        showError(err ? 'The server did not answer: try again.' : String((list && list.error) || 'The server refused that.'));
        return;
      }
      done(list, meta);
    });
  }

  function fillGap(marker, button) {
    let after = marker.nextElementSibling;
    while (after && !after.classList.contains('message')) {
      after = after.nextElementSibling;
    }
    let before = marker.previousElementSibling;
    while (before && !before.classList.contains('message')) {
      before = before.previousElementSibling;
    }
    if (!after) {
      marker.remove(); // nothing after it: nothing is missing any more
      return;
    }
    button.disabled = true;
    askEarlier(after, () => { button.disabled = false; }, (list, meta) => {
      const lastKey = before ? before.dataset.key : null;
      const reached = lastKey !== null ? list.findIndex((data) => messageKey(data) === lastKey) : -1;
      marker.after(...notShown(reached >= 0 ? list.slice(reached + 1) : list).map(messageItem));
      const closed = reached >= 0 || !(meta && meta.before) ||
        (lastKey !== null && messageKey(meta.before) === lastKey);
      if (closed) {
        marker.remove();
      }
    });
  }

  if (typeof io !== 'function') {
    setConnection('offline', 'Chat server unavailable.', { text: 'Reload', href: location.pathname });
    showUserCountUnknown('disconnected');
    input.disabled = true; // nothing was typed yet
    form.querySelectorAll('button').forEach((b) => { b.disabled = true; });
    return;
  }

  const socket = io();

  // While the connection is down for good, the form cannot send: typing
  // into it would only produce errors. The box turns read-only rather than
  // disabled, so that text given back to it can still be selected and
  // copied; the Send button is disabled.
  function setFormEnabled(enabled) {
    input.readOnly = !enabled;
    input.toggleAttribute('aria-disabled', !enabled);
    form.querySelectorAll('button').forEach((b) => { b.disabled = !enabled; });
  }

  const loginAgain = { text: 'Log in again', href: '/' };
  function sessionEnded() {
    setConnection('offline', 'Your session has ended (you logged out, or it expired).', loginAgain);
    showUserCountUnknown('disconnected');
    setFormEnabled(false);
  }

  // The client tries again (socket.active): the page says it is away until
  // the next connect — or, before the first, that it cannot get there yet.
  let everConnected = false;
  function reconnecting() {
    setConnection('reconnecting', everConnected
      ? 'Connection lost — reconnecting…'
      : 'Cannot reach the chat server — still trying…');
    showUserCountUnknown(everConnected ? 'reconnecting…' : 'connecting…');
  }

  // The client has stopped trying: the status says why, with a link.
  function disconnected(text, link) {
    setConnection('offline', text, link);
    showUserCountUnknown('disconnected');
    setFormEnabled(false);
  }

  // Announcements received since this connection opened: the history that
  // follows a (re)connection goes before them.
  let announcedSinceConnect = [];
  // Whether a history was shown already (on an earlier connection).
  let hadHistory = false;
  let endedBySession = false;

  socket.on('connect', () => {
    everConnected = true;
    setConnection('connected', 'Connected');
    setFormEnabled(true);
    clearError(NOT_CONNECTED);
    announcedSinceConnect = [];
  });

  socket.on('disconnect', (reason) => {
    giveBackUnconfirmed();
    if (socket.active) {
      reconnecting();
    } else if (endedBySession) {
      sessionEnded();
    } else if (reason === 'io server disconnect') {
      disconnected('Disconnected by the server.', { text: 'Reload the page to rejoin', href: location.pathname });
    } else {
      disconnected('Disconnected.', { text: 'Reload the page to rejoin', href: location.pathname });
    }
  });

  socket.on('connect_error', (err) => {
    if (socket.active) {
      reconnecting();
    } else if (err.message === 'unauthorized') {
      sessionEnded(); // refused for good: the client does not retry
    } else {
      disconnected('Could not join: ' + err.message, { text: 'Reload the page to try again', href: location.pathname });
    }
  });

  // The browser says the network is back: try again at once rather than
  // at the end of the client's back-off (up to 5 s). Disconnecting the
  // socket that is waiting to retry cancels the wait; connecting starts a
  // fresh attempt (and, should it fail, a fresh back-off).
  // Only while it waits: an attempt under way is left to finish. (The
  // manager's state, _readyState, is internal to socket.io-client; the
  // bundle served is the pinned 4.8 one.)
  window.addEventListener('online', () => {
    if (socket.active && !socket.connected && socket.io._readyState === 'closed') {
      console.info('Network back: reconnecting now.');
      socket.disconnect();
      socket.connect();
    }
  });

  socket.on('user count', (count) => {
    showUserCount(count);
  });

  socket.on('user', (data) => {
    if (!data.connected) {
      stoppedTyping(data.username);
    }
    delete byId('num-users').dataset.state;
    byId('num-users').textContent = data.currentUsers + ' users online';
    const li = announcementItem(data, data.connected ? ' has joined the chat.' : ' has left the chat.');
    announcedSinceConnect.push(li);
    appendToMessages(li);
    onlineChanged(data);
  });

  // Who is online: "N users online" opens a list of them. The server
  // answers 'online users' ({users, count}: the first of them in its order)
  // in line with its announcements, so the 'user' events after the answer
  // are the changes since; they keep the open list current. Reconnecting
  // asks again.
  const who = byId('who');
  const whoPanel = byId('online-users');
  let online = null; // username → user, while the list is open; null when closed
  let onlineCount = 0;
  function renderOnline(note) {
    const users = Array.from(online.values()).sort((a, b) =>
      displayName(a).localeCompare(displayName(b), undefined, { sensitivity: 'base' }) ||
      String(a.username).localeCompare(String(b.username)));
    byId('online-list').replaceChildren(...users.map((user) => {
      const li = document.createElement('li');
      li.append(author(user));
      if (user.username === me) {
        li.className = 'me';
        li.append(' (you)');
      }
      return li;
    }));
    const noteLine = byId('online-note');
    if (!note && onlineCount > users.length) {
      note = 'and ' + (onlineCount - users.length) + ' more';
    }
    noteLine.textContent = note || '';
    noteLine.hidden = !note;
  }
  function askOnline() {
    if (!socket.connected) {
      online.clear();
      renderOnline('Not connected: the list comes back with the connection.');
      return;
    }
    socket.emit('online users');
  }
  function openOnline() {
    online = new Map();
    onlineCount = 0;
    who.setAttribute('aria-expanded', 'true');
    whoPanel.hidden = false;
    renderOnline('Loading…');
    askOnline();
  }
  function closeOnline() {
    online = null;
    who.setAttribute('aria-expanded', 'false');
    whoPanel.hidden = true;
  }
  function onlineChanged(data) {
    if (online === null) {
      return;
    }
    if (data.connected) {
      online.set(data.username, data);
    } else {
      online.delete(data.username);
    }
    onlineCount = data.currentUsers;
    renderOnline();
  }
  socket.on('online users', (answer) => {
    if (online === null || !answer || !Array.isArray(answer.users)) {
      return;
    }
    online = new Map(answer.users.map((user) => [user.username, user]));
    onlineCount = Number(answer.count) || online.size;
    renderOnline();
  });
  socket.on('connect', () => {
    if (online !== null) {
      askOnline();
    }
  });
  socket.on('disconnect', () => {
    if (online !== null) {
      askOnline(); // says why the list is empty
    }
  });
  who.addEventListener('click', () => {
    if (online === null) {
      openOnline();
    } else {
      closeOnline();
    }
  });
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && online !== null) {
      closeOnline();
      who.focus();
    }
  });
  document.addEventListener('click', (event) => {
    if (online !== null && !whoPanel.contains(event.target) && !who.contains(event.target)) {
      closeOnline();
    }
  });

  // Every (re)connection sends the last messages again. The page keeps what
  // it shows and adds those it has not shown yet — the ones posted while it
  // was away — before the announcements of this connection. When all of
  // them are new and the message the server had just before them is not the
  // last one shown, more were posted meanwhile than the history holds, and
  // an item marks the gap. (Without that second argument, from an older
  // server: when all of them are new.)
  socket.on('chat history', (list, meta) => {
    const items = Array.isArray(list) ? list : [];
    const messages = byId('messages');
    const shown = messages.querySelectorAll('li.message');
    const lastShown = shown.length > 0 ? shown[shown.length - 1] : null;
    const lastTime = lastShown ? Date.parse(JSON.parse(lastShown.dataset.key)[0]) : -Infinity;
    const follow = shown.length === 0 || isAtBottom(messages);
    const missed = notShown(items).filter((data) => !(Date.parse(data.at) < lastTime));
    missed.forEach(postedAfterAll);
    const fresh = missed.map(messageItem);
    const allNew = missed.length > 0 && missed.length === items.length;
    let gap;
    if (meta && typeof meta === 'object' && 'before' in meta) {
      const before = meta.before ? messageKey(meta.before) : null;
      gap = hadHistory && allNew && before !== null && before !== (lastShown ? lastShown.dataset.key : null);
    } else {
      gap = shown.length > 0 && allNew;
    }
    if (gap) {
      fresh.unshift(missedItem());
    }
    hadHistory = true;
    announcedSinceConnect.forEach((li) => { li.remove(); });
    messages.append(...fresh, ...announcedSinceConnect);
    if (shown.length === 0) { // the first messages shown: are there older ones?
      moreEarlier = Boolean(meta && typeof meta === 'object' && meta.before);
    }
    if (follow) {
      trimMessages(messages);
      scrollToBottom(messages);
    } else {
      addUnseen(missed.length);
    }
    if (shown.length > 0) { // not the page's first messages: new since it was away
      countUnread(missed.filter((data) => data.username !== me).length);
    }
  });

  socket.on('chat message', (data) => {
    postedAfterAll(data);
    const li = messageItem(data);
    appendToMessages(li);
    countUnread(data.username === me ? 0 : 1);
    stoppedTyping(data.username);
  });

  // Who is writing: the page tells the server while its user types (every
  // TYPING_EVERY ms at most), and shows the others who do, each for
  // TYPING_SHOWN ms after their last notice, or until their message comes
  // or they leave. The server sends no notices in a crowd.
  const TYPING_EVERY = 2000;
  const TYPING_SHOWN = 3500;
  const typingLine = byId('typing');
  const typers = new Map(); // username → {data, timer}
  let lastTyping = 0;
  function showTypers() {
    const names = Array.from(typers.values(), (t) => displayName(t.data));
    typingLine.textContent = names.length === 1 ? names[0] + ' is typing…'
      : names.length === 2 ? names[0] + ' and ' + names[1] + ' are typing…'
        : 'Several people are typing…';
    typingLine.hidden = names.length === 0;
  }
  function stoppedTyping(username) {
    const t = typers.get(username);
    if (t) {
      clearTimeout(t.timer);
      typers.delete(username);
      showTypers();
    }
  }
  socket.on('typing', (data) => {
    if (!data || typeof data.username !== 'string' || data.username === me) {
      return;
    }
    stoppedTyping(data.username);
    typers.set(data.username, { data, timer: setTimeout(() => { stoppedTyping(data.username); }, TYPING_SHOWN) });
    showTypers();
  });
  socket.on('disconnect', () => {
    Array.from(typers.keys()).forEach(stoppedTyping);
  });
  input.addEventListener('input', () => {
    const now = Date.now();
    if (input.value.trim() !== '' && socket.connected && now - lastTyping >= TYPING_EVERY) {
      lastTyping = now;
      socket.emit('typing');
    }
  });

  socket.on('error message', (data) => {
    if (data && data.code === 'unauthorized') {
      endedBySession = true; // the disconnect follows
      return;
    }
    showError(typeof data === 'string' ? data : String((data && data.error) || 'The server refused that.'));
  });

  // What the page last put in the box: the texts it gave back, in the
  // order they were sent, before the draft the box held then. Nothing is
  // dropped: the user sees every text and decides what to send again.
  let givenBack = null; // {texts, draft}
  function composed(g) {
    return [...g.texts, g.draft].filter((text) => text !== '').join(' ');
  }
  // Whether the box still holds what the page put there (not edited since).
  function boxIsAsGivenBack() {
    return givenBack !== null && input.value === composed(givenBack);
  }

  // Puts unsent texts back in the box, before whatever it holds.
  function giveBack(...texts) {
    if (boxIsAsGivenBack()) {
      givenBack.texts.push(...texts);
    } else {
      givenBack = { texts, draft: input.value };
    }
    input.value = composed(givenBack);
  }

  // Texts given back because the connection dropped before the server
  // confirmed them: the server may have posted them all the same. If one
  // shows up as this user's message (in the history of the next connection,
  // or live), it leaves the box again (unless the box was edited since), so
  // that it is not sent twice.
  const unconfirmed = [];

  // Messages emitted and not answered yet. The client never calls the ack
  // of a message whose connection dropped (however slow the server, an
  // answer comes while the connection lives), so a disconnection gives
  // them back.
  const awaitingAck = new Set();
  function giveBackUnconfirmed() {
    if (awaitingAck.size === 0) {
      return;
    }
    const texts = Array.from(awaitingAck, (sending) => sending.text); // in the order sent
    awaitingAck.clear();
    unconfirmed.push(...texts);
    unconfirmed.splice(0, unconfirmed.length - 10); // the last few are enough
    giveBack(...texts);
    showError(texts.length === 1
      ? 'The connection dropped before the server confirmed your message; it is back in the box.'
      : 'The connection dropped before the server confirmed your last ' + texts.length + ' messages; they are back in the box.');
  }
  function postedAfterAll(data) {
    const i = data.username === me ? unconfirmed.indexOf(data.message) : -1;
    if (i < 0) {
      return;
    }
    unconfirmed.splice(i, 1);
    const j = boxIsAsGivenBack() ? givenBack.texts.indexOf(data.message) : -1;
    if (j < 0) {
      return;
    }
    givenBack.texts.splice(j, 1);
    input.value = composed(givenBack);
    if (givenBack.texts.length === 0) {
      givenBack = null;
      errorLine.hidden = true;
    }
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (input.readOnly) {
      return; // the connection is down for good (the status says why)
    }
    const messageToSend = input.value.trim();
    if (!messageToSend) {
      return;
    }
    if (Array.from(messageToSend).length > MAX_LENGTH) {
      showError('Messages are at most ' + MAX_LENGTH + ' characters long.');
      return;
    }
    if (!socket.connected) {
      showError(NOT_CONNECTED);
      return;
    }
    const sending = { text: messageToSend };
    awaitingAck.add(sending);
    socket.emit('chat message', messageToSend, (res) => {
      awaitingAck.delete(sending);
      if (res && res.error) {
        giveBack(messageToSend);
        showError(String(res.error));
      }
    });
    input.value = '';
    input.focus();
    lastTyping = 0; // the message ended the others' notice: say so again at the next key
  });
})();
