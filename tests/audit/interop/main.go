// Command interop checks tearline's audit-log outputs with the Go team's implementation of signed
// notes and transparency logs (golang.org/x/mod/sumdb/note and sumdb/tlog), which tearline does
// not share any code with. It reads a JSON request on standard input and writes one JSON result
// per check on standard output; the Python test decides what each result must be.
package main

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type consistency struct {
	Name  string   `json:"name"`
	Old   string   `json:"old"`
	New   string   `json:"new"`
	Proof []string `json:"proof"`
}

type request struct {
	Vkey        string        `json:"vkey"`
	Checkpoints []string      `json:"checkpoints"`
	TlogProofs  []string      `json:"tlog_proofs"`
	Consistency []consistency `json:"consistency"`
	SignOrigin  string        `json:"sign_origin"`
	SignBody    string        `json:"sign_body"`
}

type result struct {
	Check string `json:"check"`
	Name  string `json:"name"`
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
	Size  int64  `json:"size,omitempty"`
	Vkey  string `json:"vkey,omitempty"`
	Note  string `json:"note,omitempty"`
}

type checkpoint struct {
	origin string
	size   int64
	root   tlog.Hash
}

// openCheckpoint verifies the note's signature with the log's key and parses the
// c2sp.org/tlog-checkpoint body: origin, decimal size, base64 root hash.
func openCheckpoint(verifier note.Verifier, text string) (checkpoint, error) {
	n, err := note.Open([]byte(text), note.VerifierList(verifier))
	if err != nil {
		return checkpoint{}, err
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 || lines[len(lines)-1] != "" {
		return checkpoint{}, errors.New("malformed checkpoint body")
	}
	if lines[0] != verifier.Name() {
		return checkpoint{}, fmt.Errorf("origin %q is not the key name %q", lines[0], verifier.Name())
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		return checkpoint{}, err
	}
	root, err := tlog.ParseHash(lines[2])
	if err != nil {
		return checkpoint{}, err
	}
	return checkpoint{lines[0], size, root}, nil
}

func parseHashes(lines []string) ([]tlog.Hash, error) {
	hashes := make([]tlog.Hash, 0, len(lines))
	for _, line := range lines {
		h, err := tlog.ParseHash(line)
		if err != nil {
			return nil, err
		}
		hashes = append(hashes, h)
	}
	return hashes, nil
}

// checkTlogProof reads a c2sp.org/tlog-proof@v1 text: header, extra (the entry), index, inclusion
// hashes, an empty line and the signed checkpoint; it recomputes the record hash from the entry.
func checkTlogProof(verifier note.Verifier, text string) (int64, error) {
	head, signed, found := strings.Cut(text, "\n\n")
	if !found {
		return 0, errors.New("no empty line before the checkpoint")
	}
	lines := strings.Split(head, "\n")
	if len(lines) < 3 || lines[0] != "c2sp.org/tlog-proof@v1" || !strings.HasPrefix(lines[1], "extra ") {
		return 0, errors.New("not a tlog-proof@v1 with an extra line")
	}
	entry, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(lines[1], "extra "))
	if err != nil {
		return 0, err
	}
	index, err := strconv.ParseInt(strings.TrimPrefix(lines[2], "index "), 10, 64)
	if err != nil || !strings.HasPrefix(lines[2], "index ") {
		return 0, errors.New("bad index line")
	}
	proof, err := parseHashes(lines[3:])
	if err != nil {
		return 0, err
	}
	cp, err := openCheckpoint(verifier, signed)
	if err != nil {
		return 0, err
	}
	return index, tlog.CheckRecord(tlog.RecordProof(proof), cp.size, cp.root, index, tlog.RecordHash(entry))
}

func checkConsistency(verifier note.Verifier, c consistency) (int64, error) {
	old, err := openCheckpoint(verifier, c.Old)
	if err != nil {
		return 0, err
	}
	cur, err := openCheckpoint(verifier, c.New)
	if err != nil {
		return 0, err
	}
	proof, err := parseHashes(c.Proof)
	if err != nil {
		return 0, err
	}
	return cur.size, tlog.CheckTree(tlog.TreeProof(proof), cur.size, cur.root, old.size, old.root)
}

// sign makes a Go-signed checkpoint for tearline to verify: the other direction of interop.
func sign(origin, body string) (result, error) {
	skey, vkey, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		return result{}, err
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		return result{}, err
	}
	msg, err := note.Sign(&note.Note{Text: body}, signer)
	if err != nil {
		return result{}, err
	}
	return result{Check: "sign", Name: origin, OK: true, Vkey: vkey, Note: string(msg)}, nil
}

func outcome(check, name string, size int64, err error) result {
	r := result{Check: check, Name: name, OK: err == nil, Size: size}
	if err != nil {
		r.Error = err.Error()
	}
	return r
}

func main() {
	var req request
	if err := json.NewDecoder(bufio.NewReader(os.Stdin)).Decode(&req); err != nil {
		fmt.Fprintln(os.Stderr, "bad request:", err)
		os.Exit(2)
	}
	verifier, err := note.NewVerifier(req.Vkey)
	results := []result{outcome("vkey", req.Vkey, 0, err)}
	if err == nil {
		for i, text := range req.Checkpoints {
			cp, err := openCheckpoint(verifier, text)
			results = append(results, outcome("checkpoint", strconv.Itoa(i), cp.size, err))
		}
		for i, text := range req.TlogProofs {
			index, err := checkTlogProof(verifier, text)
			results = append(results, outcome("tlog-proof", strconv.Itoa(i), index, err))
		}
		for _, c := range req.Consistency {
			size, err := checkConsistency(verifier, c)
			results = append(results, outcome("consistency", c.Name, size, err))
		}
	}
	if req.SignOrigin != "" {
		r, err := sign(req.SignOrigin, req.SignBody)
		if err != nil {
			r = outcome("sign", req.SignOrigin, 0, err)
		}
		results = append(results, r)
	}
	if err := json.NewEncoder(os.Stdout).Encode(results); err != nil {
		os.Exit(2)
	}
}
