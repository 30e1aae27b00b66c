package backup

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/inkgraph/inkgraph/internal/platform/tracing"
	"github.com/inkgraph/inkgraph/models"
)

// S3Config configures an S3Store: AWS, or anything speaking S3 (MinIO, Ceph,
// versitygw) through Endpoint and PathStyle.
type S3Config struct {
	Bucket string
	Region string
	// Endpoint is the S3 API's base URL; empty means AWS's.
	Endpoint string
	// PathStyle addresses buckets as endpoint/bucket/key instead of
	// bucket.endpoint/key (MinIO, Ceph and versitygw usually want it).
	PathStyle bool
	// AccessKeyID and SecretAccessKey, when set, are the credentials; when empty
	// the SDK's default chain finds them (environment, shared files, instance roles).
	AccessKeyID     string
	SecretAccessKey string
	// Timeout bounds each of the server's own requests (stat, put, read, delete); 0 means the
	// SDK's default client, which sets none.
	Timeout time.Duration
	// HTTPClient, when set, sends the server's own requests instead of the SDK's
	// client (Timeout is then its business). AWS_CA_BUNDLE cannot configure such a
	// client: the SDK refuses to start when both are set.
	HTTPClient *http.Client
	// Now is the clock presigned URLs are signed at; time.Now when nil.
	Now func() time.Time
}

// S3Store is the BlobStore over S3 (aws-sdk-go-v2). A presigned PUT signs the
// Content-Length and x-amz-checksum-sha256 headers, so S3 refuses any other length
// (the signature no longer matches) and any other content (the checksum does not);
// Stat reads the checksum S3 keeps with the object.
type S3Store struct {
	bucket  string
	client  *s3.Client
	presign *s3.PresignClient
}

var _ BlobStore = (*S3Store)(nil)

// NewS3Store returns a store over cfg.Bucket; it makes no request.
func NewS3Store(ctx context.Context, cfg S3Config) (*S3Store, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("backup: S3 needs a bucket (S3_BUCKET)")
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	opts := []func(*awsconfig.LoadOptions) error{awsconfig.WithRegion(cfg.Region)}
	if cfg.AccessKeyID != "" || cfg.SecretAccessKey != "" {
		opts = append(opts, awsconfig.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, "")))
	}
	switch {
	case cfg.HTTPClient != nil:
		opts = append(opts, awsconfig.WithHTTPClient(cfg.HTTPClient))
	case cfg.Timeout > 0:
		// The SDK's own client, which AWS_CA_BUNDLE can still configure (a plain
		// *http.Client makes LoadDefaultConfig fail when it is set).
		opts = append(opts, awsconfig.WithHTTPClient(awshttp.NewBuildableClient().WithTimeout(cfg.Timeout)))
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("backup: S3 configuration: %w", err)
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.PathStyle
		// Each request to S3 is a client span of the request that made it, and
		// carries its traceparent (added after signing: SigV4 does not sign it).
		o.HTTPClient = tracedClient{tracing.Transport(doer(o.HTTPClient.Do))}
		// Checksums are the ones this store asks for, not the SDK's default CRC32
		// (which S3-compatible servers do not all know).
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	presign := s3.NewPresignClient(client, func(o *s3.PresignOptions) {
		o.Presigner = clockPresigner{signer: v4.NewSigner(), now: cfg.Now}
	})
	return &S3Store{bucket: cfg.Bucket, client: client, presign: presign}, nil
}

// doer is an HTTP client's Do as a RoundTripper, so the tracing transport can wrap
// whichever client the SDK set up.
type doer func(*http.Request) (*http.Response, error)

func (d doer) RoundTrip(r *http.Request) (*http.Response, error) { return d(r) }

// tracedClient is the SDK's HTTP client interface over the tracing transport.
type tracedClient struct{ rt http.RoundTripper }

func (c tracedClient) Do(r *http.Request) (*http.Response, error) { return c.rt.RoundTrip(r) }

// Client is the store's S3 client (tests create buckets with it).
func (s *S3Store) Client() *s3.Client { return s.client }

// Bucket is the store's bucket.
func (s *S3Store) Bucket() string { return s.bucket }

// clockPresigner signs at the store's clock rather than the SDK's, so that what a
// URL's expiry is measured from is the service's time.
type clockPresigner struct {
	signer *v4.Signer
	now    func() time.Time
}

func (p clockPresigner) PresignHTTP(ctx context.Context, creds aws.Credentials, r *http.Request, payloadHash, service, region string,
	_ time.Time, optFns ...func(*v4.SignerOptions)) (string, http.Header, error) {
	return p.signer.PresignHTTP(ctx, creds, r, payloadHash, service, region, p.now().UTC(), optFns...)
}

// PresignPut implements BlobStore.
func (s *S3Store) PresignPut(ctx context.Context, key string, size int64, sum []byte, ttl time.Duration) (*models.SignedRequest, error) {
	if !validKey(key) || size < 0 || len(sum) != sha256.Size {
		return nil, fmt.Errorf("backup: cannot sign a PUT of %q", key)
	}
	req, err := s.presign.PresignPutObject(ctx, &s3.PutObjectInput{
		Bucket:            aws.String(s.bucket),
		Key:               aws.String(key),
		ContentLength:     aws.Int64(size),
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
		ChecksumSHA256:    aws.String(base64.StdEncoding.EncodeToString(sum)),
	}, s3.WithPresignExpires(ttl))
	if err != nil {
		return nil, fmt.Errorf("backup: presign S3 PUT: %w", err)
	}
	return signedRequest(req, ttl, s.now(req)), nil
}

// PresignGet implements BlobStore.
func (s *S3Store) PresignGet(ctx context.Context, key string, ttl time.Duration) (*models.SignedRequest, error) {
	if !validKey(key) {
		return nil, fmt.Errorf("backup: cannot sign a GET of %q", key)
	}
	req, err := s.presign.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)},
		s3.WithPresignExpires(ttl))
	if err != nil {
		return nil, fmt.Errorf("backup: presign S3 GET: %w", err)
	}
	return signedRequest(req, ttl, s.now(req)), nil
}

// now reads the signing time back from the URL (X-Amz-Date), which is what S3
// measures the expiry from.
func (s *S3Store) now(req *v4.PresignedHTTPRequest) time.Time {
	if i := strings.Index(req.URL, "X-Amz-Date="); i >= 0 {
		v := req.URL[i+len("X-Amz-Date="):]
		if j := strings.IndexByte(v, '&'); j >= 0 {
			v = v[:j]
		}
		if t, err := time.Parse("20060102T150405Z", v); err == nil {
			return t
		}
	}
	return time.Now()
}

// signedRequest lists the headers the signature covers, except Host, which every
// client sends from the URL.
func signedRequest(req *v4.PresignedHTTPRequest, ttl time.Duration, signedAt time.Time) *models.SignedRequest {
	out := &models.SignedRequest{Method: req.Method, URL: req.URL, ExpiresAt: signedAt.Add(ttl).UTC(), Headers: []*models.HTTPHeader{}}
	for name, values := range req.SignedHeader {
		if strings.EqualFold(name, "Host") {
			continue
		}
		out.Headers = append(out.Headers, &models.HTTPHeader{Name: http.CanonicalHeaderKey(name), Value: strings.Join(values, ",")})
	}
	sort.Slice(out.Headers, func(i, j int) bool { return out.Headers[i].Name < out.Headers[j].Name })
	return out
}

// Stat implements BlobStore. S3 returns the SHA-256 it checked on upload; a server
// that keeps none has the object read and hashed instead.
func (s *S3Store) Stat(ctx context.Context, key string) (ObjectInfo, error) {
	if !validKey(key) {
		return ObjectInfo{}, ErrObjectNotFound
	}
	head, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{
		Bucket: aws.String(s.bucket), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled,
	})
	if isNotFound(err) {
		return ObjectInfo{}, ErrObjectNotFound
	}
	if err != nil {
		return ObjectInfo{}, fmt.Errorf("backup: S3 HEAD %s: %w", key, err)
	}
	info := ObjectInfo{Size: aws.ToInt64(head.ContentLength)}
	if c := aws.ToString(head.ChecksumSHA256); c != "" && !strings.Contains(c, "-") {
		if sum, err := base64.StdEncoding.DecodeString(c); err == nil && len(sum) == sha256.Size {
			info.SHA256 = sum
			return info, nil
		}
	}
	obj, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if isNotFound(err) {
		return ObjectInfo{}, ErrObjectNotFound
	}
	if err != nil {
		return ObjectInfo{}, fmt.Errorf("backup: S3 GET %s: %w", key, err)
	}
	defer obj.Body.Close()
	h := sha256.New()
	n, err := io.Copy(h, obj.Body)
	if err != nil {
		return ObjectInfo{}, fmt.Errorf("backup: S3 GET %s: %w", key, err)
	}
	return ObjectInfo{Size: n, SHA256: h.Sum(nil)}, nil
}

// Put implements BlobStore, with the SHA-256 checksum an upload has (which Stat reads).
func (s *S3Store) Put(ctx context.Context, key string, data []byte) error {
	if !validKey(key) {
		return fmt.Errorf("backup: cannot put %q", key)
	}
	sum := sha256.Sum256(data)
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:            aws.String(s.bucket),
		Key:               aws.String(key),
		Body:              bytes.NewReader(data),
		ContentLength:     aws.Int64(int64(len(data))),
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
		ChecksumSHA256:    aws.String(base64.StdEncoding.EncodeToString(sum[:])),
	})
	if err != nil {
		return fmt.Errorf("backup: S3 PUT %s: %w", key, err)
	}
	return nil
}

// Read implements BlobStore.
func (s *S3Store) Read(ctx context.Context, key string) (io.ReadCloser, error) {
	if !validKey(key) {
		return nil, ErrObjectNotFound
	}
	obj, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if isNotFound(err) {
		return nil, ErrObjectNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("backup: S3 GET %s: %w", key, err)
	}
	return obj.Body, nil
}

// Delete implements BlobStore.
func (s *S3Store) Delete(ctx context.Context, key string) error {
	if !validKey(key) {
		return fmt.Errorf("backup: cannot delete %q", key)
	}
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("backup: S3 DELETE %s: %w", key, err)
	}
	return nil
}

func isNotFound(err error) bool {
	if err == nil {
		return false
	}
	var nf *types.NotFound
	var nk *types.NoSuchKey
	if errors.As(err, &nf) || errors.As(err, &nk) {
		return true
	}
	var api smithy.APIError
	return errors.As(err, &api) && (api.ErrorCode() == "NotFound" || api.ErrorCode() == "NoSuchKey")
}
