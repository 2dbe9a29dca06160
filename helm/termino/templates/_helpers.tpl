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

{{/*
pgBackRest needs a release that knows the PostgreSQL major version's control file and WAL format: older ones
refuse the cluster ("unexpected control version"). Minimum versions from pgBackRest's release notes: 16 in
2.46, 17 in 2.54.0 (2.52 predates the final catalog), 18 in 2.56.0 (2.55.0 added it during the beta).
*/}}
{{- define "termino.validateBackup" -}}
{{- $b := .Values.backup.pgbackrest }}
{{- $_ := required "backup.pgbackrest.database.host is required: the database server where `pgbackrest server` runs" $b.database.host }}
{{- $_ = required "backup.pgbackrest.database.tlsSecretName is required: a kubernetes.io/tls Secret (with ca.crt) the database host's pgbackrest server trusts" $b.database.tlsSecretName }}
{{- $_ = required "backup.pgbackrest.repo.s3Bucket is required" $b.repo.s3Bucket }}
{{- $_ = required "backup.pgbackrest.repo.s3Endpoint is required, e.g. s3.eu-central-1.amazonaws.com" $b.repo.s3Endpoint }}
{{- $_ = required "backup.pgbackrest.repo.s3Region is required, e.g. eu-central-1" $b.repo.s3Region }}
{{- $_ = required "backup.pgbackrest.repo.existingSecret is required: a Secret with PGBACKREST_REPO1_S3_KEY, PGBACKREST_REPO1_S3_KEY_SECRET and PGBACKREST_REPO1_CIPHER_PASS" $b.repo.existingSecret }}
{{- $minimum := get (dict "16" "2.46.0" "17" "2.54.0" "18" "2.56.0") (toString (int $b.postgresMajorVersion)) }}
{{- $version := trimPrefix "v" (toString $b.image.tag) }}
{{- if not (semverCompare (printf ">=%s" $minimum) $version) }}
{{- fail (printf "backup.pgbackrest.image.tag %s: pgBackRest %s does not support PostgreSQL %d, which needs %s or newer (Debian bookworm's 2.45 supports up to PostgreSQL 15)" $b.image.tag $version (int $b.postgresMajorVersion) $minimum) }}
{{- end }}
{{- end }}

{{/* A pgbackrest container of the backup CronJobs: its config, its TLS client certificate, the repository's secrets. */}}
{{- define "termino.pgbackrestContainer" -}}
{{- $b := .Values.backup.pgbackrest -}}
image: {{ printf "%s:%s" $b.image.repository (toString $b.image.tag) }}
imagePullPolicy: {{ $b.image.pullPolicy }}
command: ["pgbackrest", "--config=/etc/pgbackrest/pgbackrest.conf"]
envFrom:
  - secretRef:
      name: {{ $b.repo.existingSecret }}
resources:
  {{- toYaml $b.resources | nindent 2 }}
securityContext:
  {{- include "termino.containerSecurityContext" . | nindent 2 }}
volumeMounts:
  - name: tmp
    mountPath: /tmp
  - name: config
    mountPath: /etc/pgbackrest/pgbackrest.conf
    subPath: pgbackrest.conf
    readOnly: true
  - name: tls
    mountPath: /etc/pgbackrest/tls
    readOnly: true
{{- end }}
