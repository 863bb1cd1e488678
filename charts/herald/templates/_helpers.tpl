{{/* Names */}}
{{- define "herald.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "herald.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "herald.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels. Call with (dict "ctx" $ "component" "edge"). */}}
{{- define "herald.selectorLabels" -}}
app.kubernetes.io/name: {{ include "herald.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "herald.labels" -}}
helm.sh/chart: {{ include "herald.chart" .ctx }}
{{ include "herald.selectorLabels" . }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/part-of: herald
{{- with .ctx.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Labels for objects that belong to no single component. */}}
{{- define "herald.commonLabels" -}}
helm.sh/chart: {{ include "herald.chart" . }}
app.kubernetes.io/name: {{ include "herald.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: herald
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "herald.image" -}}
{{- printf "%s:%s" .image.repository (default .ctx.Chart.AppVersion .image.tag) -}}
{{- end -}}

{{/*
Drain arithmetic (DESIGN "Shutdown"): the edge watchdog fires at delay + window + margin
(HERALD_SHUTDOWN_TIMEOUT_S); Kubernetes' SIGKILL comes after preStop + that + exitSlack,
so terminationGracePeriodSeconds always exceeds delay + window + margin.
*/}}
{{- define "herald.edge.shutdownTimeout" -}}
{{- $d := .Values.edge.drain -}}
{{- add $d.delaySeconds $d.windowSeconds $d.marginSeconds -}}
{{- end -}}

{{- define "herald.edge.terminationGrace" -}}
{{- $d := .Values.edge.drain -}}
{{- add $d.preStopSleepSeconds (include "herald.edge.shutdownTimeout" . | atoi) $d.exitSlackSeconds -}}
{{- end -}}

{{- define "herald.publisher.terminationGrace" -}}
{{- $d := .Values.publisher.drain -}}
{{- add $d.preStopSleepSeconds $d.shutdownTimeoutSeconds $d.exitSlackSeconds -}}
{{- end -}}

{{/* Effective replica counts (the HPA minimum when autoscaling). */}}
{{- define "herald.edge.minReplicas" -}}
{{- if .Values.autoscaling.edge.enabled }}{{ .Values.autoscaling.edge.minReplicas }}{{ else }}{{ .Values.edge.replicaCount }}{{ end -}}
{{- end -}}
{{- define "herald.publisher.minReplicas" -}}
{{- if .Values.autoscaling.publisher.enabled }}{{ .Values.autoscaling.publisher.minReplicas }}{{ else }}{{ .Values.publisher.replicaCount }}{{ end -}}
{{- end -}}

{{/* NATS */}}
{{- define "herald.nats.url" -}}
{{- if .Values.nats.deploy -}}
{{- $fn := include "herald.fullname" . -}}
{{- printf "nats://%s-nats:4222" $fn -}}
{{- else -}}
{{- required "nats.url is required (an existing NATS cluster, e.g. the official NATS chart) unless nats.deploy is true" .Values.nats.url -}}
{{- end -}}
{{- end -}}

{{/* NATS credential env for a component. Call with (dict "ctx" $ "auth" .Values.nats.edge). */}}
{{- define "herald.nats.env" -}}
{{- $a := .auth -}}
{{- if ne $a.authType "none" }}
{{- $secret := required (printf "nats.<component>.existingSecret is required for authType %s (least-privilege NATS credentials, DESIGN rule 7)" $a.authType) $a.existingSecret }}
{{- if eq $a.authType "userPassword" }}
- name: HERALD_NATS_USER
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $a.userKey }}
- name: HERALD_NATS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $a.passwordKey }}
{{- else if eq $a.authType "token" }}
- name: HERALD_NATS_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $a.tokenKey }}
{{- else if eq $a.authType "creds" }}
- name: HERALD_NATS_CREDS_FILE
  value: /etc/herald/nats-creds/{{ $a.credsKey }}
{{- end }}
{{- end }}
{{- if .ctx.Values.nats.tls.caSecret }}
- name: HERALD_NATS_TLS_CA_FILE
  value: /etc/herald/nats-ca/{{ .ctx.Values.nats.tls.caKey }}
{{- end }}
{{- end -}}

{{/* Volumes and mounts shared by both components. Call with (dict "ctx" $ "auth" ... "jwt" ... "jwtSecret" name). */}}
{{- define "herald.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .ctx.Values.podDefaults.tmpSizeLimit }}
{{- if .jwtSecret }}
- name: jwt-key
  secret:
    secretName: {{ .jwtSecret }}
    items:
      - key: {{ .jwtKey }}
        path: public.pem
{{- end }}
{{- if eq .auth.authType "creds" }}
- name: nats-creds
  secret:
    secretName: {{ .auth.existingSecret }}
    items:
      - key: {{ .auth.credsKey }}
        path: {{ .auth.credsKey }}
{{- end }}
{{- if .ctx.Values.nats.tls.caSecret }}
- name: nats-ca
  secret:
    secretName: {{ .ctx.Values.nats.tls.caSecret }}
{{- end }}
{{- end -}}

{{- define "herald.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if .jwtSecret }}
- name: jwt-key
  mountPath: /etc/herald/jwt
  readOnly: true
{{- end }}
{{- if eq .auth.authType "creds" }}
- name: nats-creds
  mountPath: /etc/herald/nats-creds
  readOnly: true
{{- end }}
{{- if .ctx.Values.nats.tls.caSecret }}
- name: nats-ca
  mountPath: /etc/herald/nats-ca
  readOnly: true
{{- end }}
{{- end -}}

{{/* Which Secret holds a component's JWT public key (empty when a JWKS URL is used). */}}
{{- define "herald.jwtSecretName" -}}
{{- $jwt := .jwt -}}
{{- if $jwt.existingSecret -}}
{{- $jwt.existingSecret -}}
{{- else if $jwt.publicKey -}}
{{- printf "%s-%s-jwt" (include "herald.fullname" .ctx) .component -}}
{{- end -}}
{{- end -}}

{{- define "herald.jwtSecretKey" -}}
{{- if .jwt.existingSecret }}{{ .jwt.existingSecretKey }}{{ else }}public.pem{{ end -}}
{{- end -}}

{{/* Fail early on an ambiguous or missing key source. */}}
{{- define "herald.jwt.check" -}}
{{- $n := 0 -}}
{{- if .jwt.jwksUrl }}{{ $n = add1 $n }}{{ end -}}
{{- if .jwt.publicKey }}{{ $n = add1 $n }}{{ end -}}
{{- if .jwt.existingSecret }}{{ $n = add1 $n }}{{ end -}}
{{- if ne (int $n) 1 -}}
{{- fail (printf "%s.jwt: set exactly one of jwksUrl, publicKey, existingSecret" .component) -}}
{{- end -}}
{{- end -}}

{{- define "herald.topologySpread" -}}
{{- if .ctx.Values.podDefaults.topologySpread }}
topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: kubernetes.io/hostname
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        {{- include "herald.selectorLabels" . | nindent 8 }}
  - maxSkew: 1
    topologyKey: topology.kubernetes.io/zone
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        {{- include "herald.selectorLabels" . | nindent 8 }}
{{- end }}
{{- end -}}

{{/*
NATS permissions for the dev cluster (DESIGN rule 7). The same lists are documented for an
external NATS in docs/kubernetes.md.
*/}}
{{- define "herald.nats.edgePermissions" -}}
{{- $p := .Values.subjectPrefix -}}
{{- $s := .Values.streamName -}}
{{- $rev := printf "KV_%s" .Values.nats.kv.revocationsBucket -}}
{{- $tic := printf "KV_%s" .Values.nats.kv.ticketsBucket -}}
{{- /* Stream HERALD: read-only ordered consumers for resume. */ -}}
{{- $pub := list "$JS.API.INFO" (printf "$JS.API.STREAM.INFO.%s" $s) (printf "$JS.API.CONSUMER.CREATE.%s" $s) (printf "$JS.API.CONSUMER.CREATE.%s.>" $s) (printf "$JS.API.CONSUMER.INFO.%s.>" $s) (printf "$JS.API.CONSUMER.DELETE.%s.>" $s) (printf "$JS.API.CONSUMER.MSG.NEXT.%s.>" $s) (printf "$JS.FC.%s.>" $s) -}}
{{- /* Revocations bucket: read and watch (create only if it does not exist yet). */ -}}
{{- $pub = concat $pub (list (printf "$JS.API.STREAM.INFO.%s" $rev) (printf "$JS.API.STREAM.CREATE.%s" $rev) (printf "$JS.API.DIRECT.GET.%s.>" $rev) (printf "$JS.API.STREAM.MSG.GET.%s" $rev) (printf "$JS.API.CONSUMER.CREATE.%s" $rev) (printf "$JS.API.CONSUMER.CREATE.%s.>" $rev) (printf "$JS.API.CONSUMER.INFO.%s.>" $rev) (printf "$JS.API.CONSUMER.DELETE.%s.>" $rev) (printf "$JS.API.CONSUMER.MSG.NEXT.%s.>" $rev) (printf "$JS.FC.%s.>" $rev)) -}}
{{- /* Tickets bucket: read, create and delete entries (single-use tickets). */ -}}
{{- $pub = concat $pub (list (printf "$JS.API.STREAM.INFO.%s" $tic) (printf "$JS.API.STREAM.CREATE.%s" $tic) (printf "$JS.API.DIRECT.GET.%s.>" $tic) (printf "$JS.API.STREAM.MSG.GET.%s" $tic) (printf "$KV.%s.>" .Values.nats.kv.ticketsBucket)) -}}
{{- $sub := list (printf "%s.live.>" $p) (printf "%s.ctl.>" $p) "_INBOX.>" -}}
{{- /* NATS conf, not JSON: toJson would escape ">" as \u003e. */ -}}
{ publish: { allow: ["{{ join "\", \"" $pub }}"] }, subscribe: { allow: ["{{ join "\", \"" $sub }}"] } }
{{- end -}}

{{- define "herald.nats.publisherPermissions" -}}
{{- $p := .Values.subjectPrefix -}}
{{- $s := .Values.streamName -}}
{{- $rev := printf "KV_%s" .Values.nats.kv.revocationsBucket -}}
{{- $pub := list (printf "%s.n.>" $p) (printf "%s.ctl.>" $p) "$JS.API.INFO" (printf "$JS.API.STREAM.CREATE.%s" $s) (printf "$JS.API.STREAM.UPDATE.%s" $s) (printf "$JS.API.STREAM.INFO.%s" $s) (printf "$JS.API.STREAM.CREATE.%s" $rev) (printf "$JS.API.STREAM.UPDATE.%s" $rev) (printf "$JS.API.STREAM.INFO.%s" $rev) (printf "$JS.API.DIRECT.GET.%s.>" $rev) (printf "$JS.API.STREAM.MSG.GET.%s" $rev) (printf "$KV.%s.>" .Values.nats.kv.revocationsBucket) -}}
{{- $sub := list "_INBOX.>" -}}
{{- /* NATS conf, not JSON: toJson would escape ">" as \u003e. */ -}}
{ publish: { allow: ["{{ join "\", \"" $pub }}"] }, subscribe: { allow: ["{{ join "\", \"" $sub }}"] } }
{{- end -}}
