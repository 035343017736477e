package fastpubsub

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"
)

// TokenCallTimeout bounds the token REST calls (contract v0.1 §7).
const TokenCallTimeout = 5 * time.Second

// Admin addresses the token REST API of an edge with the master token.
type Admin struct {
	URL         string // edge base URL
	MasterToken string
	Client      *http.Client // default http.DefaultClient
}

// TenantGrant is one grant of a token's rights.
type TenantGrant struct {
	TenantIDs        []string `json:"tenant_ids"`
	AllowChannelsPub []string `json:"allow_channels_pub"`
	AllowChannelsSub []string `json:"allow_channels_sub"`
}

// CreateTokenRequest is the input of CreateToken.
type CreateTokenRequest struct {
	Grants          []TenantGrant
	ExpiresAt       time.Time // at most 24 h ahead
	CreatedBy       string
	Description     string
	AllowIPMasks    []string
	AllowRegions    []string
	AllowedWSOrigin []string
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (a Admin) call(ctx context.Context, method, path string, body any, out any) error {
	edge, err := ParseEdge(a.URL)
	if err != nil {
		return err
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return badArgument("cannot encode request: %v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, TokenCallTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, edge.HTTPURL+path, bytes.NewReader(raw))
	if err != nil {
		return badArgument("bad request: %v", err)
	}
	req.Close = true // one call, one connection: nothing idles after it
	req.Header.Set("Authorization", "Bearer "+a.MasterToken)
	req.Header.Set("Content-Type", "application/json")
	client := a.Client
	if client == nil {
		client = http.DefaultClient
	}
	res, err := client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return ctxError(ctx)
		}
		return &Error{Code: CodeConnectFailed, Message: method + " " + edge.HTTPURL + path + " failed", Err: err}
	}
	defer res.Body.Close()
	text, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if res.StatusCode/100 != 2 {
		code := CodeHTTP
		switch res.StatusCode {
		case http.StatusUnauthorized:
			code = CodeUnauthorized
		case http.StatusForbidden:
			code = CodeForbidden
		}
		snippet := strings.TrimSpace(string(text))
		if len(snippet) > 200 {
			snippet = snippet[:200]
		}
		return &Error{Code: code, Status: res.StatusCode, Detail: string(text), Message: method + " " + path + " answered HTTP " + res.Status + ": " + snippet}
	}
	if err := json.Unmarshal(text, out); err != nil {
		return &Error{Code: CodeProtocol, Status: res.StatusCode, Message: method + " " + path + " answered non-JSON", Err: err}
	}
	return nil
}

// CreateToken mints an access token (POST /v1/get-token).
func (a Admin) CreateToken(ctx context.Context, r CreateTokenRequest) (string, error) {
	if len(r.Grants) == 0 || r.ExpiresAt.IsZero() || strings.TrimSpace(r.CreatedBy) == "" {
		return "", badArgument("CreateToken needs grants, ExpiresAt and CreatedBy")
	}
	grants := make([]TenantGrant, len(r.Grants))
	for i, g := range r.Grants {
		grants[i] = TenantGrant{orEmpty(g.TenantIDs), orEmpty(g.AllowChannelsPub), orEmpty(g.AllowChannelsSub)}
	}
	body := map[string]any{
		"right": map[string]any{
			"tenant_grants":     grants,
			"allow_ip_masks":    orEmpty(r.AllowIPMasks),
			"allow_regions":     orEmpty(r.AllowRegions),
			"allowed_ws_origin": orEmpty(r.AllowedWSOrigin),
			"expires_at":        r.ExpiresAt.UTC().Format(time.RFC3339Nano),
		},
		"created_by": r.CreatedBy,
	}
	if r.Description != "" {
		body["description"] = r.Description
	}
	var out struct {
		Token string `json:"token"`
	}
	if err := a.call(ctx, http.MethodPost, "/v1/get-token", body, &out); err != nil {
		return "", err
	}
	if out.Token == "" {
		return "", newError(CodeProtocol, "get-token reply lacks \"token\"")
	}
	return out.Token, nil
}

// RefreshToken moves a token's expiry (PUT /v1/refresh-token); it returns the new expiry text.
func (a Admin) RefreshToken(ctx context.Context, tokenID string, expiresAt time.Time) (string, error) {
	var out struct {
		Message      string `json:"message"`
		NewExpiresAt string `json:"new_expires_at"`
	}
	body := map[string]string{"token_id": tokenID, "expires_at": expiresAt.UTC().Format(time.RFC3339Nano)}
	if err := a.call(ctx, http.MethodPut, "/v1/refresh-token", body, &out); err != nil {
		return "", err
	}
	if out.NewExpiresAt == "" {
		return "", newError(CodeProtocol, "refresh-token reply lacks \"new_expires_at\"")
	}
	return out.NewExpiresAt, nil
}

// RevokeToken revokes a token (DELETE /v1/revoke-token with a JSON body).
func (a Admin) RevokeToken(ctx context.Context, token string) error {
	var out struct {
		Message string `json:"message"`
	}
	return a.call(ctx, http.MethodDelete, "/v1/revoke-token", map[string]string{"token": token}, &out)
}

// TokenID returns the id part of AT_<id>_<secret>.
func TokenID(token string) (string, error) {
	rest, ok := strings.CutPrefix(token, "AT_")
	id, secret, found := strings.Cut(rest, "_")
	if !ok || !found || id == "" || secret == "" {
		return "", badArgument("not an access token (AT_<id>_<secret>)")
	}
	return id, nil
}
