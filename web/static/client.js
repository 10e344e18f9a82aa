/* global io */
// Switchboard chat client.
//
// Talks to the server through the Socket.IO client served at
// /socket.io/socket.io.js. Events (see CONTRACTS.md):
//   server → client  'user count'    number of users online
//                    'user'          {username, name, currentUsers, connected}
//                    'chat message'  {username, name, message, at}
//                    'chat history'  [{username, name, message, at}, …] on join
//                    'error message' {error} or a string, when the server refuses something
//   client → server  'chat message'  the text; the ack answers {error} when it is refused
//
// Everything users typed is put on the page with textContent, never as HTML.
'use strict';

(function () {
  const MAX_LENGTH = 1000; // characters, as the server counts them

  const form = document.getElementById('send');
  const input = document.getElementById('m');
  const statusLine = document.getElementById('connection');
  const errorLine = document.getElementById('chat-error');
  const me = document.body.dataset.username || '';

  function byId(id) {
    return document.getElementById(id);
  }

  function setConnection(state, text) {
    statusLine.dataset.state = state;
    statusLine.textContent = text;
  }

  let errorTimer = 0;
  function showError(text) {
    errorLine.textContent = text;
    errorLine.hidden = false;
    clearTimeout(errorTimer);
    errorTimer = setTimeout(() => { errorLine.hidden = true; }, 6000);
  }

  function showUserCount(count) {
    byId('num-users').textContent = count + ' users online';
  }

  // Keep the newest message in view, unless the reader scrolled up to read
  // older ones.
  function appendToMessages(li) {
    const list = byId('messages');
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
    list.appendChild(li);
    if (atBottom || li.classList.contains('mine')) {
      list.scrollTop = list.scrollHeight;
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

  // "NAME: message", built from text nodes only.
  function messageItem(data) {
    const li = document.createElement('li');
    li.className = 'message';
    if (me && data.username === me) {
      li.classList.add('mine');
    }
    const author = document.createElement('strong');
    author.className = 'author';
    author.textContent = displayName(data);
    const text = document.createElement('span');
    text.className = 'text';
    text.textContent = String(data.message);
    li.append(author, ': ', text);
    const time = timeLabel(data.at);
    if (time) {
      li.dataset.time = time; // shown by CSS, not part of the text
    }
    return li;
  }

  // "NAME has joined the chat." and other announcements.
  function announcementItem(text) {
    const li = document.createElement('li');
    li.className = 'announcement';
    li.textContent = text;
    return li;
  }

  if (typeof io !== 'function') {
    setConnection('offline', 'Chat server unavailable');
    input.disabled = true;
    return;
  }

  const socket = io();

  // While the connection is down for good, the form is disabled: typing
  // into it would only produce errors.
  function setFormEnabled(enabled) {
    input.disabled = !enabled;
    form.querySelectorAll('button').forEach((b) => { b.disabled = !enabled; });
  }

  // Announcements received since this connection opened: the history that
  // follows a (re)connection replaces the list, and they go back after it.
  let announcedSinceConnect = [];

  socket.on('connect', () => {
    setConnection('connected', 'Connected');
    setFormEnabled(true);
    announcedSinceConnect = [];
  });

  socket.on('disconnect', (reason) => {
    if (socket.active) {
      setConnection('reconnecting', 'Reconnecting…');
    } else {
      setConnection('offline', reason === 'io server disconnect' ? 'Disconnected by the server — reload the page to rejoin' : 'Disconnected');
      setFormEnabled(false);
    }
  });

  socket.on('connect_error', (err) => {
    if (socket.active) {
      setConnection('reconnecting', 'Reconnecting…');
    } else {
      setConnection('offline', 'Could not join: ' + err.message);
      setFormEnabled(false);
    }
  });

  socket.on('user count', (count) => {
    showUserCount(count);
  });

  socket.on('user', (data) => {
    byId('num-users').textContent = data.currentUsers + ' users online';
    const li = announcementItem(displayName(data) + (data.connected ? ' has joined the chat.' : ' has left the chat.'));
    announcedSinceConnect.push(li);
    appendToMessages(li);
  });

  socket.on('chat history', (list) => {
    const messages = byId('messages');
    messages.replaceChildren(); // a reconnect sends the history again
    (Array.isArray(list) ? list : []).forEach((data) => { messages.appendChild(messageItem(data)); });
    announcedSinceConnect.forEach((li) => { messages.appendChild(li); });
    messages.scrollTop = messages.scrollHeight;
  });

  socket.on('chat message', (data) => {
    const li = messageItem(data);
    appendToMessages(li);
  });

  socket.on('error message', (data) => {
    showError(typeof data === 'string' ? data : String((data && data.error) || 'The server refused that.'));
  });

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const messageToSend = input.value.trim();
    if (!messageToSend) {
      return;
    }
    if (Array.from(messageToSend).length > MAX_LENGTH) {
      showError('Messages are at most ' + MAX_LENGTH + ' characters long.');
      return;
    }
    if (!socket.connected) {
      showError('Not connected — your message was not sent.');
      return;
    }
    socket.emit('chat message', messageToSend, (res) => {
      if (res && res.error) {
        showError(String(res.error));
        if (!input.value) {
          input.value = messageToSend; // give the text back so it is not lost
        }
      }
    });
    input.value = '';
    input.focus();
  });
})();
