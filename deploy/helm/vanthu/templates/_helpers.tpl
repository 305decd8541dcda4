{{/* Names and labels */}}
{{- define "vanthu.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "vanthu.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Labels common to every object of the release. */}}
{{- define "vanthu.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "vanthu.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: vanthu
{{- end -}}

{{/* Selector labels of one component: (list $ "registry") */}}
{{- define "vanthu.selectorLabels" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: {{ include "vanthu.name" $root }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{/* The release's pods, whatever their component. */}}
{{- define "vanthu.releaseSelector" -}}
app.kubernetes.io/name: {{ include "vanthu.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* One service's settings: serviceDefaults overlaid with services.<name>, as YAML. (list $ name) */}}
{{- define "vanthu.service" -}}
{{- $root := index . 0 -}}
{{- $name := index . 1 -}}
{{- $own := index $root.Values.services $name -}}
{{- toYaml (mergeOverwrite (deepCopy $root.Values.serviceDefaults) (deepCopy $own)) -}}
{{- end -}}

{{- define "vanthu.serviceName" -}}
{{- printf "%s-%s" (include "vanthu.fullname" (index . 0)) (index . 1) -}}
{{- end -}}

{{- define "vanthu.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "vanthu.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Image reference: (list $ repository tag) */}}
{{- define "vanthu.image" -}}
{{- $root := index . 0 -}}
{{- $tag := index . 2 | default $root.Values.image.tag | default $root.Chart.AppVersion -}}
{{- if $root.Values.image.registry -}}
{{- printf "%s/%s:%s" (trimSuffix "/" $root.Values.image.registry) (index . 1) $tag -}}
{{- else -}}
{{- printf "%s:%s" (index . 1) $tag -}}
{{- end -}}
{{- end -}}

{{- define "vanthu.toolsImage" -}}
{{- include "vanthu.image" (list . .Values.image.tools.repository .Values.image.tools.tag) -}}
{{- end -}}

{{/* Public URL of a service: its Ingress host when it has one, else its in-cluster URL. (list $ name svc) */}}
{{- define "vanthu.publicUrl" -}}
{{- $root := index . 0 -}}
{{- $name := index . 1 -}}
{{- $svc := index . 2 -}}
{{- if and $root.Values.ingress.enabled $svc.ingress.enabled -}}
{{- printf "%s://%s" (ternary "https" "http" $root.Values.ingress.tls.enabled) (include "vanthu.ingressHost" (list $root $name $svc)) -}}
{{- else -}}
{{- printf "http://%s:%v" (include "vanthu.serviceName" (list $root $name)) $svc.port -}}
{{- end -}}
{{- end -}}

{{- define "vanthu.ingressHost" -}}
{{- $root := index . 0 -}}
{{- $svc := index . 2 -}}
{{- default (printf "%s.%s" (index . 1) $root.Values.ingress.domain) $svc.ingress.host -}}
{{- end -}}

{{/* NATS URL env, plain or from a Secret. */}}
{{- define "vanthu.natsUrlEnv" -}}
- name: VANTHU_NATS_URL
{{- if .Values.nats.urlSecret.name }}
  valueFrom:
    secretKeyRef:
      name: {{ .Values.nats.urlSecret.name }}
      key: {{ .Values.nats.urlSecret.key }}
{{- else }}
  value: {{ .Values.nats.url | quote }}
{{- end }}
{{- end -}}

{{/* Env every service shares (VANTHU_* platform-wide settings). */}}
{{- define "vanthu.platformEnv" -}}
- name: VANTHU_ENV
  value: {{ .Values.platform.env | quote }}
- name: VANTHU_LOG_LEVEL
  value: {{ .Values.platform.logLevel | quote }}
- name: VANTHU_LOG_JSON
  value: {{ .Values.platform.logJson | quote }}
{{- if .Values.platform.provinceAgency }}
- name: VANTHU_PROVINCE_AGENCY
  value: {{ .Values.platform.provinceAgency | quote }}
{{- end }}
{{ include "vanthu.natsUrlEnv" . }}
{{- if .Values.nats.credsSecret.name }}
- name: VANTHU_NATS_CREDS_FILE
  value: /var/run/secrets/vanthu/nats/{{ .Values.nats.credsSecret.key }}
{{- end }}
- name: VANTHU_AUTO_MIGRATE
  value: {{ not .Values.migrations.enabled | quote }}
- name: VANTHU_OBJECT_STORE
  value: {{ .Values.objectStore.type | quote }}
{{- if eq .Values.objectStore.type "s3" }}
- name: VANTHU_S3_ENDPOINT
  value: {{ .Values.objectStore.endpoint | quote }}
{{- with .Values.objectStore.publicEndpoint }}
- name: VANTHU_S3_PUBLIC_ENDPOINT
  value: {{ . | quote }}
{{- end }}
- name: VANTHU_S3_BUCKET
  value: {{ .Values.objectStore.bucket | quote }}
- name: VANTHU_S3_SECURE
  value: {{ .Values.objectStore.secure | quote }}
- name: VANTHU_S3_REGION
  value: {{ .Values.objectStore.region | quote }}
- name: VANTHU_S3_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .Values.objectStore.credentialsSecret.name }}
      key: {{ .Values.objectStore.credentialsSecret.accessKeyKey }}
- name: VANTHU_S3_SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .Values.objectStore.credentialsSecret.name }}
      key: {{ .Values.objectStore.credentialsSecret.secretKeyKey }}
{{- end }}
- name: VANTHU_SIGNED_URL_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ .Values.signedUrl.secretName }}
      key: {{ .Values.signedUrl.secretKey }}
- name: VANTHU_SIGNED_URL_TTL_S
  value: {{ .Values.signedUrl.ttlSeconds | quote }}
{{- with .Values.auth.jwksUrl }}
- name: VANTHU_JWKS_URL
  value: {{ . | quote }}
{{- end }}
{{- if .Values.auth.publicKeySecret.name }}
- name: VANTHU_JWT_PUBLIC_KEY_FILE
  value: /var/run/secrets/vanthu/jwt/{{ .Values.auth.publicKeySecret.key }}
{{- end }}
- name: VANTHU_JWT_ISSUER
  value: {{ .Values.auth.issuer | quote }}
- name: VANTHU_JWT_AUDIENCE
  value: {{ .Values.auth.audience | quote }}
- name: VANTHU_OTEL_EXPORTER
  value: {{ .Values.telemetry.exporter | quote }}
{{- with .Values.telemetry.endpoint }}
- name: VANTHU_OTEL_ENDPOINT
  value: {{ . | quote }}
{{- end }}
- name: VANTHU_OTEL_SAMPLE_RATIO
  value: {{ .Values.telemetry.sampleRatio | quote }}
{{- end -}}

{{/* VANTHU_<SVC>_DATABASE_URL from the database Secret. (list $ name svc) */}}
{{- define "vanthu.databaseEnv" -}}
{{- $root := index . 0 -}}
{{- $name := index . 1 -}}
{{- $svc := index . 2 -}}
- name: VANTHU_{{ upper $name }}_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ $svc.database.secretName | default $root.Values.database.secretName }}
      key: {{ $svc.database.secretKey }}
{{- end -}}

{{/* Env of one service process. (list $ name svc) */}}
{{- define "vanthu.serviceEnv" -}}
{{- $root := index . 0 -}}
{{- $name := index . 1 -}}
{{- $svc := index . 2 -}}
{{- $prefix := printf "VANTHU_%s_" (upper $name) -}}
{{ include "vanthu.platformEnv" $root }}
- name: {{ $prefix }}HOST
  value: "0.0.0.0"
- name: {{ $prefix }}PORT
  value: {{ $svc.port | quote }}
- name: {{ $prefix }}INSTANCE
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: {{ $prefix }}PUBLIC_URL
  value: {{ include "vanthu.publicUrl" (list $root $name $svc) | quote }}
{{ include "vanthu.databaseEnv" (list $root $name $svc) }}
- name: {{ $prefix }}DATABASE_POOL_SIZE
  value: {{ $svc.database.poolSize | default $root.Values.database.poolSize | quote }}
{{- range $key, $value := $svc.env }}
- name: {{ $key }}
  value: {{ $value | quote }}
{{- end }}
{{- range $key, $ref := $svc.secretEnv }}
- name: {{ $key }}
  valueFrom:
    secretKeyRef:
      name: {{ $ref.secretName }}
      key: {{ $ref.key }}
{{- end }}
{{- end -}}

{{/* Secret-backed files every service may mount (NATS creds, JWT public key). */}}
{{- define "vanthu.platformVolumes" -}}
{{- if .Values.nats.credsSecret.name }}
- name: nats-creds
  secret:
    secretName: {{ .Values.nats.credsSecret.name }}
    defaultMode: 0440
{{- end }}
{{- if .Values.auth.publicKeySecret.name }}
- name: jwt-public-key
  secret:
    secretName: {{ .Values.auth.publicKeySecret.name }}
    defaultMode: 0444
{{- end }}
{{- end -}}

{{- define "vanthu.platformVolumeMounts" -}}
{{- if .Values.nats.credsSecret.name }}
- name: nats-creds
  mountPath: /var/run/secrets/vanthu/nats
  readOnly: true
{{- end }}
{{- if .Values.auth.publicKeySecret.name }}
- name: jwt-public-key
  mountPath: /var/run/secrets/vanthu/jwt
  readOnly: true
{{- end }}
{{- end -}}

{{/* Is a service scaled by an autoscaler (HPA or KEDA) instead of a fixed replica count? */}}
{{- define "vanthu.autoscaled" -}}
{{- $svc := . -}}
{{- if or $svc.autoscaling.enabled (and $svc.keda $svc.keda.enabled) -}}true{{- end -}}
{{- end -}}

{{/* The migration container of the hook Job: every enabled service's database URL. */}}
{{- define "vanthu.migrateContainer" -}}
- name: migrate
  image: {{ include "vanthu.toolsImage" . }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  command:
    {{- toYaml .Values.migrations.command | nindent 4 }}
  args:
    {{- range $name, $own := .Values.services }}
    {{- if $own.enabled }}
    - {{ $name }}
    {{- end }}
    {{- end }}
  env:
    - name: VANTHU_ENV
      value: {{ .Values.platform.env | quote }}
    {{- range $name, $own := .Values.services }}
    {{- if $own.enabled }}
    {{- $svc := include "vanthu.service" (list $ $name) | fromYaml }}
    {{- include "vanthu.databaseEnv" (list $ $name $svc) | nindent 4 }}
    {{- end }}
    {{- end }}
  resources:
    {{- toYaml .Values.migrations.resources | nindent 4 }}
  securityContext:
    {{- toYaml .Values.containerSecurityContext | nindent 4 }}
  volumeMounts:
    - name: tmp
      mountPath: /tmp
    - name: work
      mountPath: /var/lib/vanthu
{{- end -}}
