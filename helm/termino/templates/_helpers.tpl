{{/*
Names. The full name is "<release>-termino" unless the release name already contains the chart name;
Kubernetes names are capped at 63 characters.
*/}}
{{- define "termino.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "termino.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "termino.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels every object carries; call with (dict "ctx" $ "component" "web"). */}}
{{- define "termino.labels" -}}
helm.sh/chart: {{ include "termino.chart" .ctx }}
{{ include "termino.selectorLabels" . }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/part-of: termino
{{- end }}

{{/* The subset a selector matches on: stable across upgrades (selectors are immutable). */}}
{{- define "termino.selectorLabels" -}}
app.kubernetes.io/name: {{ include "termino.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
{{- if .component }}
app.kubernetes.io/component: {{ .component }}
{{- end }}
{{- end }}

{{- define "termino.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "termino.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret the pods read: the operator's own, or the one this chart renders. */}}
{{- define "termino.secretName" -}}
{{- default (include "termino.fullname" .) .Values.existingSecret }}
{{- end }}

{{/* The migration hook runs before the release's own objects exist, so it reads copies made as hooks. */}}
{{- define "termino.migrateEnvName" -}}
{{- printf "%s-migrate" (include "termino.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "termino.migrateSecretName" -}}
{{- if .Values.existingSecret }}{{ .Values.existingSecret }}{{ else }}{{ include "termino.migrateEnvName" . }}{{ end }}
{{- end }}

{{- define "termino.migrateServiceAccountName" -}}
{{- if .Values.serviceAccount.create }}{{ include "termino.migrateEnvName" . }}{{ else }}{{ include "termino.serviceAccountName" . }}{{ end }}
{{- end }}

{{- define "termino.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag | toString) }}
{{- end }}

{{- define "termino.tlsSecretName" -}}
{{- default (printf "%s-tls" (include "termino.fullname" .)) .Values.ingress.tlsSecretName }}
{{- end }}

{{/*
Values the schema cannot express with a readable message. Included by the ConfigMap and the Secret,
so any render (install, upgrade, template, lint) stops here with a sentence naming the value.
*/}}
{{- define "termino.validate" -}}
{{- $_ := required "baseDomain is required: the domain Termino serves, e.g. --set baseDomain=termino.example (businesses live at <slug>.<baseDomain>)" .Values.baseDomain }}
{{- $_ = required "image.repository is required: the Termino image to run, e.g. --set image.repository=registry.example/termino" .Values.image.repository }}
{{- if .Values.existingSecret }}
{{- range $key, $value := .Values.secrets }}
{{- if $value }}
{{- fail (printf "secrets.%s is set together with existingSecret=%s: put it into that Secret instead (the chart renders no Secret of its own then)" $key $.Values.existingSecret) }}
{{- end }}
{{- end }}
{{- else }}
{{- range list "SECRET_KEY" "DATABASE_URL" "REDIS_URL" }}
{{- $_ = required (printf "secrets.%s is required (or set existingSecret to the name of a Secret you manage that holds it)" .) (index $.Values.secrets .) }}
{{- end }}
{{- if eq (toString .Values.config.SMS_BACKEND) "lox24" }}
{{- $_ = required "secrets.LOX24_TOKEN is required with config.SMS_BACKEND=lox24 (or set existingSecret)" .Values.secrets.LOX24_TOKEN }}
{{- end }}
{{- end }}
{{- if and .Values.citus.enabled (eq (toString .Values.config.DATABASE_POOL_MODE) "transaction") }}
{{- fail "config.DATABASE_POOL_MODE=transaction does not work with citus.enabled: Citus forwards the text of some commands to the workers as it came, and transaction pooling puts SET LOCAL search_path in front of every statement. Connect to the coordinator directly or through PgBouncer in session mode, with DATABASE_POOL_MODE=session (docs/scaling.md, Citus)" }}
{{- end }}
{{- if and (eq (toString .Values.config.EMAIL_BACKEND) "django.core.mail.backends.smtp.EmailBackend") (not .Values.config.EMAIL_HOST) }}
{{- fail "config.EMAIL_HOST is required with the SMTP EMAIL_BACKEND: the mail server Termino sends through" }}
{{- end }}
{{- end }}

{{/* A value as the environment sees it: YAML numbers arrive as floats, 587 must not become "587.0"/"5.87e+02". */}}
{{- define "termino.envString" -}}
{{- if and (kindIs "float64" .) (eq . (float64 (int64 .))) }}{{ int64 . }}{{ else }}{{ toString . }}{{ end }}
{{- end }}

{{/*
Non-secret environment, shared by the release ConfigMap and the migration hook's copy so the two
cannot drift. Empty values are left out: the app's own default applies (an empty DEFAULT_FROM_EMAIL
would override it with nothing).
*/}}
{{- define "termino.configData" -}}
{{- $env := dict "DEBUG" "0" "SITE_SCHEME" "https" "BASE_DOMAIN" .Values.baseDomain "MEDIA_ROOT" "/app/media" "PORT" "8000" }}
{{- range $key, $value := .Values.config }}
{{- $text := include "termino.envString" $value }}
{{- if and (not (kindIs "invalid" $value)) (ne $text "") }}
{{- $_ := set $env $key $text }}
{{- end }}
{{- end }}
{{- range $key, $value := .Values.extraEnv }}
{{- $_ := set $env $key (include "termino.envString" $value) }}
{{- end }}
{{- toYaml $env }}
{{- end }}

{{/* Secret environment, base64 for a Secret's `data`; unset keys are left out. */}}
{{- define "termino.secretData" -}}
{{- $data := dict }}
{{- range $key, $value := .Values.secrets }}
{{- if $value }}
{{- $_ := set $data $key (toString $value | b64enc) }}
{{- end }}
{{- end }}
{{- toYaml $data }}
{{- end }}

{{/* Pod-level hardening: the image's `termino` user (uid/gid 10001); fsGroup makes the media volume writable. */}}
{{- define "termino.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Container-level hardening: read-only root (only /tmp and /app/media are writable), no capabilities. */}}
{{- define "termino.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Pods restart when the configuration they read at start changes (env is fixed at container start). */}}
{{- define "termino.checksumAnnotations" -}}
checksum/config: {{ include "termino.configData" . | sha256sum }}
checksum/secret: {{ include "termino.secretData" . | sha256sum }}
{{- end }}

{{/*
The fields every Termino pod spec shares; call with (dict "ctx" $ "component" "web"), plus
"serviceAccount" to run under another account than the release's.
*/}}
{{- define "termino.podCommon" -}}
serviceAccountName: {{ default (include "termino.serviceAccountName" .ctx) .serviceAccount }}
automountServiceAccountToken: false
{{- with .ctx.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- include "termino.podSecurityContext" .ctx | nindent 2 }}
{{- with .ctx.Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with .ctx.Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .ctx.Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .ctx.Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{- define "termino.envFrom" -}}
envFrom:
  - configMapRef:
      name: {{ .configMap }}
  - secretRef:
      name: {{ .secret }}
{{- end }}

{{/* /tmp is the only writable path besides media: gunicorn's heartbeat files, Prometheus multiprocess files, beat's schedule. */}}
{{- define "termino.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpSizeLimit }}
{{- end }}

{{- define "termino.mediaVolume" -}}
- name: media
  persistentVolumeClaim:
    claimName: {{ default (printf "%s-media" (include "termino.fullname" .)) .Values.media.existingClaim }}
{{- end }}
