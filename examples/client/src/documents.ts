// The operations this client sends. graphql-codegen reads them from here and writes
// their types, and the persisted-documents manifest, into src/gql/.
import { graphql } from './gql/index.js';

export const RegisterDocument = graphql(`
  mutation Register($input: RegisterInput!) {
    register(input: $input) {
      accessToken
      refreshToken
      expiresAt
      user {
        id
        email
        tier
        createdAt
      }
    }
  }
`);

export const CreateBusinessInfoDocument = graphql(`
  mutation CreateBusinessInfo($input: CreateBusinessInfoInput!) {
    createBusinessInfo(input: $input) {
      id
      businessName
      industry
      createdAt
    }
  }
`);

export const SaveResearchPreferencesDocument = graphql(`
  mutation SaveResearchPreferences($input: ResearchPreferencesInput!) {
    saveResearchPreferences(input: $input) {
      depth
      contentTypes
      writingTone
      updatedAt
    }
  }
`);

export const GeneratePersonaDocument = graphql(`
  mutation GeneratePersona($platforms: [Platform!]) {
    generatePersona(platforms: $platforms) {
      id
      version
      active
      source
      selectedPlatforms
      core {
        name
        summary
      }
      createdAt
    }
  }
`);

export const CompleteStepDocument = graphql(`
  mutation CompleteStep($step: Int!) {
    completeStep(step: $step) {
      currentStep
      percentage
      steps {
        step
        key
        status
        completedAt
      }
    }
  }
`);

// The wizard's final page: the whole summary, with the user it belongs to, in one
// request.
export const OnboardingSummaryDocument = graphql(`
  query OnboardingSummary {
    me {
      id
      email
      tier
      createdAt
      onboarding {
        progress {
          currentStep
          percentage
          completed
          startedAt
          steps {
            step
            key
            status
            completedAt
          }
        }
        resume {
          step
          reason
          missingSteps
        }
        providerKeys {
          provider
          masked
          status
        }
        hasValidatedKey
        websiteAnalysis {
          url
          analyzedAt
          fetchedBytes
        }
        businessInfo {
          id
          businessName
          industry
          updatedAt
        }
        researchPreferences {
          depth
          contentTypes
          writingTone
        }
        integrations {
          kind
          status
        }
        activePersona {
          id
          version
          source
          core {
            name
            summary
          }
        }
        personas {
          id
          active
        }
        personaReadiness {
          ready
          missing
          sources
        }
        personalization {
          businessName
          writingTone
          personaId
          defaulted
        }
        plan {
          tier
          backupBytes
          monthlyTokens
          requestsPerMinute
        }
      }
    }
  }
`);

// The summary with its costlier parts deferred: the first response has the progress
// and the business information, the deferred fragment follows in the same response.
export const DeferredSummaryDocument = graphql(`
  query DeferredSummary {
    onboarding {
      progress {
        currentStep
        percentage
      }
      businessInfo {
        businessName
      }
      ... @defer(label: "slow") {
        websiteAnalysis {
          url
          analyzedAt
        }
        personaReadiness {
          ready
          missing
          sources
        }
        personalization {
          businessName
          writingTone
          personaId
        }
      }
    }
  }
`);

export const PlansDocument = graphql(`
  query Plans {
    plans {
      tier
      monthlyTokens
      backupBytes
    }
  }
`);

export const ChatDocument = graphql(`
  subscription Chat($input: ChatInput!) {
    chat(input: $input) {
      runId
      seq
      type
      agent
      delta
      toolCall {
        name
        arguments
      }
      usage {
        totalTokens
        offline
      }
      done {
        response
        finishReason
        offline
      }
      error {
        code
        message
      }
    }
  }
`);
