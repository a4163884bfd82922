//go:build tools

// Package tools pins etcdctl in this wrapper module's requirements.
package tools

import _ "go.etcd.io/etcd/etcdctl/v3"
