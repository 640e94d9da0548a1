{{/* Chart name, truncated to 63 characters (a DNS label). */}}
{{- define "starling.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Full name: release-chart, or the release alone when it already contains the chart's name. */}}
{{- define "starling.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "starling.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels that never change for a release: the StatefulSet's selector, the NetworkPolicy's peers. */}}
{{- define "starling.selectorLabels" -}}
app.kubernetes.io/name: {{ include "starling.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "starling.labels" -}}
helm.sh/chart: {{ include "starling.chart" . }}
{{ include "starling.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: starling
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "starling.headlessServiceName" -}}
{{- printf "%s-headless" (include "starling.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The name every pod looks up to find the others (Hazelcast's Kubernetes discovery, DNS mode). */}}
{{- define "starling.headlessServiceDns" -}}
{{- printf "%s.%s.svc.%s" (include "starling.headlessServiceName" .) .Release.Namespace .Values.clusterDomain -}}
{{- end -}}

{{- define "starling.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "starling.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "starling.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}
{{- end -}}

{{- define "starling.clusterName" -}}
{{- default (include "starling.fullname" .) .Values.cluster.name -}}
{{- end -}}

{{/* The Secret with tls.crt / tls.key / ca.crt of the tls and wss listeners. */}}
{{- define "starling.tlsSecretName" -}}
{{- if .Values.tls.existingSecret -}}
{{- .Values.tls.existingSecret -}}
{{- else -}}
{{- printf "%s-tls" (include "starling.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "starling.tlsEnabled" -}}
{{- if or .Values.listeners.tls.enabled .Values.listeners.wss.enabled -}}true{{- end -}}
{{- end -}}

{{- define "starling.authSecretName" -}}
{{- if .Values.auth.existingSecret -}}
{{- .Values.auth.existingSecret -}}
{{- else -}}
{{- printf "%s-auth" (include "starling.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/* An ACL file is used when the chart's Secret has one or an existing Secret is named (its `acl` key optional). */}}
{{- define "starling.aclEnabled" -}}
{{- if and .Values.auth.enabled (or .Values.auth.aclFile .Values.auth.existingSecret) -}}true{{- end -}}
{{- end -}}

{{/* Values that cannot be checked by values.schema.json alone. */}}
{{- define "starling.validate" -}}
{{- if lt (int .Values.terminationGracePeriodSeconds) (add (int .Values.lifecycle.preStopSleepSeconds) 30 | int) -}}
{{- fail (printf "terminationGracePeriodSeconds (%d) must be at least lifecycle.preStopSleepSeconds + 30 (%d): the graceful leave needs up to 30 s after SIGTERM to hand sessions over" (int .Values.terminationGracePeriodSeconds) (add (int .Values.lifecycle.preStopSleepSeconds) 30 | int)) -}}
{{- end -}}
{{- if and (include "starling.tlsEnabled" .) (not .Values.tls.existingSecret) (not .Values.tls.certManager.enabled) -}}
{{- fail "listeners.tls or listeners.wss is enabled: set tls.existingSecret (a Secret with tls.crt and tls.key) or tls.certManager.enabled" -}}
{{- end -}}
{{- if and .Values.auth.enabled (not .Values.auth.existingSecret) (not .Values.auth.passwordFile) -}}
{{- fail "auth.enabled: set auth.existingSecret (a Secret with `passwd`, optionally `acl`) or auth.passwordFile" -}}
{{- end -}}
{{- if and .Values.auth.enabled .Values.tests.enabled (not (and .Values.tests.username .Values.tests.password)) -}}
{{- fail "auth.enabled with tests.enabled: set tests.username and tests.password (a user of the password file) for helm test, or tests.enabled=false" -}}
{{- end -}}
{{- if and .Values.cluster.linkTls.enabled (not .Values.cluster.linkTls.existingSecret) -}}
{{- fail "cluster.linkTls.enabled: set cluster.linkTls.existingSecret (a Secret with tls.crt, tls.key and ca.crt)" -}}
{{- end -}}
{{- if not (or .Values.listeners.tcp.enabled .Values.listeners.tls.enabled .Values.listeners.ws.enabled .Values.listeners.wss.enabled) -}}
{{- fail "no listener is enabled: enable at least one of listeners.tcp, tls, ws, wss" -}}
{{- end -}}
{{- $ports := list .Values.metrics.port .Values.cluster.port .Values.cluster.linkPort -}}
{{- range $k := list "tcp" "tls" "ws" "wss" -}}
{{- $l := index $.Values.listeners $k -}}
{{- if $l.enabled -}}{{- $ports = append $ports $l.port -}}{{- end -}}
{{- end -}}
{{- $names := list -}}
{{- range $p := $ports -}}{{- $names = append $names (printf "%v" $p) -}}{{- end -}}
{{- if ne (len $names) (len (uniq $names)) -}}
{{- fail (printf "two ports are the same among the enabled listeners, metrics.port, cluster.port and cluster.linkPort: %v" $ports) -}}
{{- end -}}
{{- end -}}

{{/* The dotted keys of a nested map, one per line: (dict "prefix" "" "map" .Values.config). */}}
{{- define "starling.flatKeys" -}}
{{- $prefix := .prefix -}}
{{- range $k, $v := .map -}}
{{- if kindIs "map" $v -}}
{{- include "starling.flatKeys" (dict "prefix" (printf "%s%s." $prefix $k) "map" $v) -}}
{{- else -}}
{{ printf "%s%s" $prefix $k }}
{{ end -}}
{{- end -}}
{{- end -}}

{{/* Broker keys the chart sets from its own values (as environment variables, which win over the file). */}}
{{- define "starling.managedKeys" -}}
{{- $keys := list "listener.host" "listener.port" "listener.tcp.enabled" "listener.tcp.proxy-protocol" "auth.password-file" "auth.acl-file" "auth.allow-anonymous" "listener.allow-anonymous-non-loopback" "metrics.enabled" "metrics.host" "metrics.port" "cluster.name" "cluster.bind-host" "cluster.port" "cluster.link-port" "cluster.members" "cluster.kubernetes-service-dns" "cluster.backup-count" "cluster.link-tls.cert-file" "cluster.link-tls.key-file" "cluster.link-tls.ca-file" -}}
{{- range $k := list "tls" "ws" "wss" -}}
{{- $keys = concat $keys (list (printf "listener.%s.enabled" $k) (printf "listener.%s.port" $k) (printf "listener.%s.proxy-protocol" $k)) -}}
{{- end -}}
{{- $keys = concat $keys (list "listener.tls.cert-file" "listener.tls.key-file" "listener.tls.ca-file" "listener.tls.client-auth" "listener.tls.identity" "listener.tls.min-version") -}}
{{- join "\n" $keys -}}
{{- end -}}

{{- define "starling.validateConfig" -}}
{{- $managed := splitList "\n" (include "starling.managedKeys" .) -}}
{{- range $key := splitList "\n" (include "starling.flatKeys" (dict "prefix" "" "map" .Values.config)) -}}
{{- if and $key (has $key $managed) -}}
{{- fail (printf "config.%s is set by the chart from its own values (see values.yaml: listeners, cluster, metrics, tls, auth); set it there" $key) -}}
{{- end -}}
{{- end -}}
{{- end -}}
