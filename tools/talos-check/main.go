// talos-check builds each machine's whole Talos configuration the way its real generator does, applies the
// program's patches in the program's order with the machinery's own config patcher, and validates the result
// strictly in the machine's runtime mode.
//
// Two generators, read at their pinned tags:
//   - "provider": pulumiverse-talos 0.8.1 (terraform-provider-talos v0.11.0, pkg/talos/util.go generate() and
//     talos_machine_configuration_apply_resource.go computeMachineConfiguration): a config bundle with cluster
//     discovery, the default DNS domain, install disk /dev/sda, the secrets bundle and the version contract;
//     then ConfigurationApply's config_patches through configpatcher.LoadPatches and Apply.
//   - "cabpt": the Cluster API bootstrap provider v0.6.12 (controllers/talosconfig_controller.go genConfigs and
//     the patch step): generate.NewInput with the DNS domain, version contract and secrets bundle, the
//     Cluster's pod and service ranges written in, then JSON6902 configPatches, then strategicPatches.
//
// Input on stdin: a JSON list of machines. Output on stdout: a JSON list of results, one per machine, in
// order, each with the errors and warnings Talos reports. Exit 0 when every machine was checked (the caller
// judges the results), 2 on unreadable input.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	jsonpatch "github.com/evanphx/json-patch"
	"github.com/siderolabs/talos/pkg/machinery/config"
	"github.com/siderolabs/talos/pkg/machinery/config/bundle"
	"github.com/siderolabs/talos/pkg/machinery/config/configloader"
	"github.com/siderolabs/talos/pkg/machinery/config/configpatcher"
	"github.com/siderolabs/talos/pkg/machinery/config/encoder"
	"github.com/siderolabs/talos/pkg/machinery/config/generate"
	"github.com/siderolabs/talos/pkg/machinery/config/generate/secrets"
	"github.com/siderolabs/talos/pkg/machinery/config/machine"
	"github.com/siderolabs/talos/pkg/machinery/config/validation"
	"github.com/siderolabs/talos/pkg/machinery/constants"
)

// Machine is one node or one guest machine to build and check.
type Machine struct {
	Name              string            `json:"name"`
	Generator         string            `json:"generator"` // provider | cabpt
	Mode              string            `json:"mode"`      // metal | cloud | container
	ClusterName       string            `json:"clusterName"`
	Endpoint          string            `json:"endpoint"` // provider: the URL; cabpt: host:port of controlPlaneEndpoint
	KubernetesVersion string            `json:"kubernetesVersion"`
	TalosVersion      string            `json:"talosVersion"`
	MachineType       string            `json:"machineType"` // controlplane | worker | join | init
	Patches           []string          `json:"patches"`
	JSONPatches       []json.RawMessage `json:"jsonPatches"`
	PodSubnets        []string          `json:"podSubnets"`
	ServiceSubnets    []string          `json:"serviceSubnets"`
	DNSDomain         string            `json:"dnsDomain"`
}

// Result is what Talos said of one machine's configuration.
type Result struct {
	Name     string   `json:"name"`
	Errors   []string `json:"errors"`
	Warnings []string `json:"warnings"`
	Config   string   `json:"config,omitempty"`
}

// runtimeMode mirrors Talos' own modes (internal/app/machined/pkg/runtime/mode.go): only metal installs to
// disk, only container runs in a container.
type runtimeMode string

func (m runtimeMode) String() string        { return string(m) }
func (m runtimeMode) RequiresInstall() bool { return m == "metal" }
func (m runtimeMode) InContainer() bool     { return m == "container" }

func main() {
	raw, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail(err)
	}
	var machines []Machine
	if err := json.Unmarshal(raw, &machines); err != nil {
		fail(fmt.Errorf("input is not a JSON list of machines: %w", err))
	}
	keepConfig := len(os.Args) > 1 && os.Args[1] == "--print-config"
	results := make([]Result, 0, len(machines))
	for _, m := range machines {
		results = append(results, check(m, keepConfig))
	}
	out := json.NewEncoder(os.Stdout)
	out.SetIndent("", "  ")
	if err := out.Encode(results); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "talos-check:", err)
	os.Exit(2)
}

func check(m Machine, keepConfig bool) Result {
	result := Result{Name: m.Name, Errors: []string{}, Warnings: []string{}}
	built, err := build(m)
	if err != nil {
		result.Errors = append(result.Errors, err.Error())
		return result
	}
	if keepConfig {
		result.Config = string(built)
	}
	cfg, err := configloader.NewFromBytes(built)
	if err != nil {
		result.Errors = append(result.Errors, "load: "+err.Error())
		return result
	}
	mode := runtimeMode(m.Mode)
	if m.Mode != "metal" && m.Mode != "cloud" && m.Mode != "container" {
		result.Errors = append(result.Errors, fmt.Sprintf("unknown mode %q", m.Mode))
		return result
	}
	warnings, err := cfg.Validate(mode, validation.WithStrict())
	result.Warnings = append(result.Warnings, warnings...)
	if err != nil {
		result.Errors = append(result.Errors, "validate: "+err.Error())
	}
	return result
}

func build(m Machine) ([]byte, error) {
	contract, err := config.ParseContractFromVersion(m.TalosVersion)
	if err != nil {
		return nil, fmt.Errorf("talos version: %w", err)
	}
	bundleSecrets, err := secrets.NewBundle(secrets.NewFixedClock(time.Now()), contract)
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	machineType, err := machine.ParseType(m.MachineType)
	if err != nil {
		return nil, fmt.Errorf("machine type: %w", err)
	}
	switch m.Generator {
	case "provider":
		return buildAsProvider(m, contract, bundleSecrets, machineType)
	case "cabpt":
		return buildAsCABPT(m, contract, bundleSecrets, machineType)
	default:
		return nil, fmt.Errorf("unknown generator %q", m.Generator)
	}
}

func buildAsProvider(m Machine, contract *config.VersionContract, s *secrets.Bundle, t machine.Type) ([]byte, error) {
	genOptions := []generate.Option{
		generate.WithClusterDiscovery(true),
		generate.WithDNSDomain(constants.DefaultDNSDomain),
		generate.WithInstallDisk("/dev/sda"),
		generate.WithSecretsBundle(s),
		generate.WithVersionContract(contract),
	}
	configBundle, err := bundle.NewBundle(
		bundle.WithInputOptions(&bundle.InputOptions{
			ClusterName: m.ClusterName,
			Endpoint:    m.Endpoint,
			KubeVersion: strings.TrimPrefix(m.KubernetesVersion, "v"),
			GenOptions:  genOptions,
		}),
		bundle.WithVerbose(false),
	)
	if err != nil {
		return nil, fmt.Errorf("generate: %w", err)
	}
	base, err := configBundle.Serialize(encoder.CommentsDisabled, t)
	if err != nil {
		return nil, fmt.Errorf("serialize: %w", err)
	}
	patches, err := configpatcher.LoadPatches(m.Patches)
	if err != nil {
		return nil, fmt.Errorf("load patches: %w", err)
	}
	out, err := configpatcher.Apply(configpatcher.WithBytes(base), patches)
	if err != nil {
		return nil, fmt.Errorf("apply patches: %w", err)
	}
	return out.Bytes()
}

func buildAsCABPT(m Machine, contract *config.VersionContract, s *secrets.Bundle, t machine.Type) ([]byte, error) {
	dnsDomain := m.DNSDomain
	if dnsDomain == "" {
		dnsDomain = constants.DefaultDNSDomain
	}
	host, port, err := net.SplitHostPort(m.Endpoint)
	if err != nil {
		return nil, fmt.Errorf("endpoint: %w", err)
	}
	if _, err := strconv.Atoi(port); err != nil {
		return nil, fmt.Errorf("endpoint port: %w", err)
	}
	input, err := generate.NewInput(m.ClusterName, "https://"+net.JoinHostPort(host, port),
		strings.TrimPrefix(m.KubernetesVersion, "v"),
		generate.WithDNSDomain(dnsDomain), generate.WithVersionContract(contract), generate.WithSecretsBundle(s))
	if err != nil {
		return nil, fmt.Errorf("generate: %w", err)
	}
	data, err := input.Config(t)
	if err != nil {
		return nil, fmt.Errorf("generate: %w", err)
	}
	if len(m.PodSubnets) > 0 {
		data.RawV1Alpha1().ClusterConfig.ClusterNetwork.PodSubnet = m.PodSubnets
	}
	if len(m.ServiceSubnets) > 0 {
		data.RawV1Alpha1().ClusterConfig.ClusterNetwork.ServiceSubnet = m.ServiceSubnets
	}
	encoded, err := data.EncodeString(encoder.WithComments(encoder.CommentsDisabled))
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	current := []byte(encoded)
	if len(m.JSONPatches) > 0 {
		marshalled, err := json.Marshal(m.JSONPatches)
		if err != nil {
			return nil, err
		}
		patch, err := jsonpatch.DecodePatch(marshalled)
		if err != nil {
			return nil, fmt.Errorf("configPatches: %w", err)
		}
		if current, err = configpatcher.JSON6902(current, patch); err != nil {
			return nil, fmt.Errorf("configPatches: %w", err)
		}
	}
	if len(m.Patches) == 0 {
		return current, nil
	}
	patches := make([]configpatcher.Patch, 0, len(m.Patches))
	for _, text := range m.Patches {
		patch, err := configpatcher.LoadPatch([]byte(text))
		if err != nil {
			return nil, fmt.Errorf("strategicPatches: %w", err)
		}
		patches = append(patches, patch)
	}
	out, err := configpatcher.Apply(configpatcher.WithBytes(current), patches)
	if err != nil {
		return nil, fmt.Errorf("strategicPatches: %w", err)
	}
	outCfg, err := out.Config()
	if err != nil {
		return nil, fmt.Errorf("strategicPatches: %w", err)
	}
	text, err := outCfg.EncodeString(encoder.WithComments(encoder.CommentsDisabled))
	return []byte(text), err
}
