package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// browser is the user's browser, except that it shows each redirect instead of following it.
var browser = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// approve is the user, in the sandbox only: opens the card's Authorize link, approves on Lark's consent
// page through the emulator's control API, and follows the redirect back to the service.
func approve(emulator, openID, authorizeURL string) error {
	res, err := browser.Get(authorizeURL)
	if err != nil {
		return err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusFound {
		return fmt.Errorf("the authorize link answered %d", res.StatusCode)
	}
	body, _ := json.Marshal(map[string]string{
		"url": res.Header.Get("Location"), "open_id": openID, "decision": "approve",
	})
	res, err = browser.Post(emulator+"/_emulator/oauth/decide", "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	var decided struct {
		RedirectURL string `json:"redirect_url"`
	}
	text, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK || json.Unmarshal(text, &decided) != nil || decided.RedirectURL == "" {
		return fmt.Errorf("the consent page answered %d: %s", res.StatusCode, text)
	}
	res, err = browser.Get(decided.RedirectURL)
	if err != nil {
		return err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("the OAuth callback answered %d", res.StatusCode)
	}
	return nil
}
