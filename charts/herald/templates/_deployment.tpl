{{/*
One Deployment shape for edge and publisher. Call with
(dict "ctx" $ "component" "edge" "v" .Values.edge "auth" .Values.nats.edge "grace" N "preStop" N "replicasOwnedByHPA" bool "configTemplate" "edge-configmap.yaml")
*/}}
{{- define "herald.deployment" -}}
{{- $ctx := .ctx -}}
{{- $v := .v -}}
{{- $labels := dict "ctx" $ctx "component" .component -}}
{{- $jwtSecret := include "herald.jwtSecretName" (dict "ctx" $ctx "jwt" $v.jwt "component" .component) -}}
{{- $vol := dict "ctx" $ctx "auth" .auth "jwtSecret" $jwtSecret "jwtKey" (include "herald.jwtSecretKey" (dict "jwt" $v.jwt)) -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "herald.fullname" $ctx }}-{{ .component }}
  labels:
    {{- include "herald.labels" $labels | nindent 4 }}
spec:
  {{- if not .replicasOwnedByHPA }}
  replicas: {{ $v.replicaCount }}
  {{- end }}
  revisionHistoryLimit: 5
  strategy:
    {{- toYaml $v.strategy | nindent 4 }}
  selector:
    matchLabels:
      {{- include "herald.selectorLabels" $labels | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "herald.labels" $labels | nindent 8 }}
        {{- with $v.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        # Roll the pods when their configuration changes.
        checksum/config: {{ print (include (print $ctx.Template.BasePath "/" .configTemplate) $ctx) (include (print $ctx.Template.BasePath "/jwt-secrets.yaml") $ctx) | sha256sum }}
        {{- with $v.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ if $ctx.Values.serviceAccount.create }}{{ include "herald.fullname" $ctx }}-{{ .component }}{{ else }}default{{ end }}
      automountServiceAccountToken: false
      enableServiceLinks: false
      terminationGracePeriodSeconds: {{ .grace }}
      securityContext:
        {{- toYaml $ctx.Values.podDefaults.securityContext | nindent 8 }}
      {{- with $ctx.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.priorityClassName }}
      priorityClassName: {{ . }}
      {{- end }}
      {{- include "herald.topologySpread" $labels | nindent 6 }}
      {{- with $v.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ .component }}
          image: {{ include "herald.image" (dict "ctx" $ctx "image" $v.image) | quote }}
          imagePullPolicy: {{ $v.image.pullPolicy }}
          ports:
            - name: http
              containerPort: {{ $v.port }}
              protocol: TCP
            - name: internal
              containerPort: {{ $v.internalPort }}
              protocol: TCP
          envFrom:
            - configMapRef:
                name: {{ include "herald.fullname" $ctx }}-{{ .component }}
          env:
            {{- include "herald.nats.env" (dict "ctx" $ctx "auth" .auth) | nindent 12 }}
            {{- with $v.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          livenessProbe:
            httpGet:
              path: /livez
              port: internal
            {{- toYaml $v.livenessProbe | nindent 12 }}
          readinessProbe:
            httpGet:
              path: /readyz
              port: internal
            {{- toYaml $v.readinessProbe | nindent 12 }}
          lifecycle:
            preStop:
              exec:
                # The image ships coreutils' sleep; the app then drains on SIGTERM.
                command: ["sleep", "{{ .preStop }}"]
          resources:
            {{- toYaml $v.resources | nindent 12 }}
          securityContext:
            {{- toYaml $ctx.Values.podDefaults.containerSecurityContext | nindent 12 }}
          volumeMounts:
            {{- include "herald.volumeMounts" $vol | nindent 12 }}
      volumes:
        {{- include "herald.volumes" $vol | nindent 8 }}
{{- end -}}
