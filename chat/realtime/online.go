package realtime

import (
	"slices"
	"strings"

	"switchboard/chat"
)

// maxListed is the most users an "online users" answer names: the list is
// for people to read, and its cost per request stays bounded however many
// are online (the answer also says how many there are).
const maxListed = 100

// onlineUser is one entry of the "online users" answer.
type onlineUser struct {
	Username string `json:"username"`
	Name     string `json:"name"`
}

// onlineList is the "online users" answer: the first users in the order
// the page lists them, and how many are online in all.
type onlineList struct {
	Users []onlineUser `json:"users"`
	Count int          `json:"count"`
}

// online mirrors who Presence counts online, with the names to show,
// sorted as the page lists them: by display name, then username, ignoring
// case. It changes under announceMu, in the same step as the presence.
type online struct {
	list []onlineEntry
	keys map[int64]string // user → sort key, as added (a name may change meanwhile)
}

type onlineEntry struct {
	key string
	id  int64
	onlineUser
}

func sortKey(u *chat.User) string {
	return strings.ToLower(u.DisplayName()) + "\x00" + strings.ToLower(u.Username) + "\x00" + u.Username
}

func (o *online) add(u *chat.User) {
	if _, ok := o.keys[u.ID]; ok {
		return
	}
	if o.keys == nil {
		o.keys = make(map[int64]string)
	}
	key := sortKey(u)
	o.keys[u.ID] = key
	i, _ := slices.BinarySearchFunc(o.list, key, func(e onlineEntry, k string) int { return strings.Compare(e.key, k) })
	o.list = slices.Insert(o.list, i, onlineEntry{key: key, id: u.ID, onlineUser: onlineUser{Username: u.Username, Name: u.DisplayName()}})
}

func (o *online) remove(userID int64) {
	key, ok := o.keys[userID]
	if !ok {
		return
	}
	delete(o.keys, userID)
	i, _ := slices.BinarySearchFunc(o.list, key, func(e onlineEntry, k string) int { return strings.Compare(e.key, k) })
	for ; i < len(o.list) && o.list[i].key == key; i++ {
		if o.list[i].id == userID {
			o.list = slices.Delete(o.list, i, i+1)
			return
		}
	}
}

// first returns the first n users listed, and the number online.
func (o *online) first(n int) onlineList {
	l := onlineList{Users: make([]onlineUser, 0, min(n, len(o.list))), Count: len(o.list)}
	for _, e := range o.list[:min(n, len(o.list))] {
		l.Users = append(l.Users, e.onlineUser)
	}
	return l
}
